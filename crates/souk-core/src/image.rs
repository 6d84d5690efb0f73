//! Images that publishers upload (icons, screenshots): which we accept, and what we serve them as.
//!
//! PNG, JPEG, GIF and WebP only. Never SVG: it is a document that can carry script, and served
//! from our origin it would run as us. The format is recognized from the bytes (the magic
//! number), never from a file name or a declared content type, and the content type we serve
//! the image with comes from that recognition. Only the header is read, to learn the size; at
//! most [`MAX_SIDE`] pixels each way keeps a decompression bomb (a small file that decodes
//! to gigabytes of pixels) out of the browsers of people who look at the page. Whether the rest
//! of the file decodes is the browser's business: a broken image shows as broken, no more.

use crate::ValidationError;
use imagesize::ImageType;

/// The largest width or height, in pixels.
pub const MAX_SIDE: u32 = 4096;

/// What an accepted image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The MIME type to serve it with.
    pub content_type: &'static str,
    /// The file extension to store it under, without the dot.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Checks an uploaded image. Errors name the field `image` with the code `invalid_image`.
pub fn check_image(bytes: &[u8]) -> Result<ImageInfo, ValidationError> {
    let invalid = |message: String| ValidationError::new("image", "invalid_image", message);
    let not_accepted = || invalid("must be a PNG, JPEG, GIF or WebP image".to_owned());
    let kind = imagesize::image_type(bytes).map_err(|_| not_accepted())?;
    // An `if` chain rather than a `match`: the variants of `ImageType` depend on the features
    // that the whole build enables, so a match could not be exhaustive without a catch-all
    // that might be unreachable.
    let (content_type, extension) = if kind == ImageType::Png {
        ("image/png", "png")
    } else if kind == ImageType::Jpeg {
        ("image/jpeg", "jpg")
    } else if kind == ImageType::Gif {
        ("image/gif", "gif")
    } else if kind == ImageType::Webp {
        ("image/webp", "webp")
    } else {
        return Err(not_accepted());
    };
    let size = imagesize::blob_size(bytes).map_err(|_| {
        invalid(format!(
            "looks like {} but is truncated or corrupt: its size cannot be read",
            extension.to_ascii_uppercase()
        ))
    })?;
    let (width, height) = (size.width, size.height);
    if width == 0 || height == 0 {
        return Err(invalid(format!(
            "is {width}×{height} pixels: it has no pixels"
        )));
    }
    let max = MAX_SIDE as usize;
    if width > max || height > max {
        return Err(invalid(format!(
            "is {width}×{height} pixels; at most {MAX_SIDE}×{MAX_SIDE} are accepted"
        )));
    }
    Ok(ImageInfo {
        content_type,
        extension,
        // Both are at most MAX_SIDE, checked above.
        width: width as u32,
        height: height as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A complete 1×1 transparent PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    /// A complete 1×1 GIF.
    const GIF: &[u8] = &[
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF,
        0xFF, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ];

    /// The header of a baseline JPEG (start of image, JFIF, start of frame) of `w`×`h`.
    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        b.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    /// A lossless WebP header (`VP8L`) of `w`×`h`.
    fn webp(w: u32, h: u32) -> Vec<u8> {
        let dims = (w - 1) | ((h - 1) << 14);
        let mut chunk = vec![0x2F];
        chunk.extend_from_slice(&dims.to_le_bytes());
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(4 + 8 + chunk.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WEBPVP8L");
        b.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        b.extend_from_slice(&chunk);
        b
    }

    /// PNG with its IHDR width and height replaced (imagesize does not check the CRC).
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = PNG.to_vec();
        b[16..20].copy_from_slice(&w.to_be_bytes());
        b[20..24].copy_from_slice(&h.to_be_bytes());
        b
    }

    fn refused(bytes: &[u8]) -> ValidationError {
        let e = check_image(bytes).expect_err("the image should be refused");
        assert_eq!((e.field, e.code), ("image", "invalid_image"));
        e
    }

    #[test]
    fn accepts_the_four_formats() {
        let info = |bytes: &[u8]| {
            let i = check_image(bytes).unwrap();
            (i.content_type, i.extension, i.width, i.height)
        };
        assert_eq!(info(PNG), ("image/png", "png", 1, 1));
        assert_eq!(info(GIF), ("image/gif", "gif", 1, 1));
        assert_eq!(info(&jpeg(640, 480)), ("image/jpeg", "jpg", 640, 480));
        assert_eq!(info(&webp(1, 1)), ("image/webp", "webp", 1, 1));
        assert_eq!(info(&png(4096, 4096)), ("image/png", "png", 4096, 4096));
    }

    #[test]
    fn refuses_what_is_not_a_raster_image() {
        for bytes in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"<html><script>alert(1)</script></html>",
            b"just some text",
            b"",
            b"%PDF-1.7",
            // BMP: a real image format, but not one we take.
            b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00",
        ] {
            let e = refused(bytes);
            assert_eq!(e.message, "must be a PNG, JPEG, GIF or WebP image");
        }
    }

    #[test]
    fn refuses_truncated_headers() {
        let e = refused(&PNG[..12]);
        assert!(e.message.contains("truncated"), "{e}");
        refused(&jpeg(1, 1)[..10]);
    }

    #[test]
    fn refuses_empty_and_oversized_images() {
        let e = refused(&png(0, 10));
        assert_eq!(e.message, "is 0×10 pixels: it has no pixels");
        refused(&jpeg(10, 0));
        let e = refused(&png(4097, 10));
        assert_eq!(
            e.to_string(),
            "image: is 4097×10 pixels; at most 4096×4096 are accepted"
        );
        refused(&png(10, 100_000));
        refused(&webp(5000, 1));
        refused(&jpeg(1, 4097));
        // A PNG header claiming 4 billion pixels each way must not overflow anything.
        refused(&png(u32::MAX, u32::MAX));
    }
}
