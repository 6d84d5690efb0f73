//! Uploaded images (icons, screenshots, logos): the bytes must be a PNG, JPEG, GIF or WebP of a
//! sane size, recognised from their own header, never from a file name or a client's media type.
//! SVG is refused outright: it is a document that can carry script.

use crate::ValidationError;

/// The largest width or height accepted.
pub const MAX_SIDE: u32 = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

pub fn check_image(bytes: &[u8]) -> Result<ImageInfo, ValidationError> {
    let invalid = |m: &str| ValidationError::new("image", "invalid_image", m);
    let kind = imagesize::image_type(bytes)
        .map_err(|_| invalid("must be a PNG, JPEG, GIF or WebP image"))?;
    let (content_type, extension) = match kind {
        imagesize::ImageType::Png => ("image/png", "png"),
        imagesize::ImageType::Jpeg => ("image/jpeg", "jpg"),
        imagesize::ImageType::Gif => ("image/gif", "gif"),
        imagesize::ImageType::Webp => ("image/webp", "webp"),
        _ => return Err(invalid("must be a PNG, JPEG, GIF or WebP image")),
    };
    let size =
        imagesize::blob_size(bytes).map_err(|_| invalid("is damaged: its size cannot be read"))?;
    let (width, height) = (
        u32::try_from(size.width).unwrap_or(u32::MAX),
        u32::try_from(size.height).unwrap_or(u32::MAX),
    );
    if width == 0 || height == 0 {
        return Err(invalid("has no pixels"));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(invalid(&format!(
            "is {width}x{height}; at most {MAX_SIDE}x{MAX_SIDE} is accepted"
        )));
    }
    Ok(ImageInfo {
        content_type,
        extension,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00,
        0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    // GIF89a, 2x3, minimal header and a one-entry colour table.
    const GIF_2X3: &[u8] = b"GIF89a\x02\x00\x03\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x02\x00\x03\x00\x00\x02\x02D\x01\x00;";

    #[test]
    fn accepts_real_images() {
        let png = check_image(PNG_1X1).unwrap();
        assert_eq!(
            (png.content_type, png.width, png.height),
            ("image/png", 1, 1)
        );
        let gif = check_image(GIF_2X3).unwrap();
        assert_eq!((gif.extension, gif.width, gif.height), ("gif", 2, 3));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            b"hello world",
            b"",
            &PNG_1X1[..12],
        ] {
            assert_eq!(check_image(bad).unwrap_err().code, "invalid_image");
        }
    }

    #[test]
    fn refuses_huge_images() {
        let mut png = PNG_1X1.to_vec();
        // Width field of IHDR: 100000 pixels.
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(check_image(&png).is_err());
    }
}
