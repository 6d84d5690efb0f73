//! The catalog's media: icons, logos and screenshots, checked as images and stored as blobs.

use super::*;

impl Catalog {
    // ----- media -----

    /// Checks that the bytes are an image and stores them; answers the reference and the size.
    pub(super) async fn store_image(&self, bytes: Bytes) -> AppResult<(ImageRef, (u32, u32))> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(AppError::PayloadTooLarge);
        }
        let info = souk_core::image::check_image(&bytes)?;
        let staged = self
            .blobs
            .stage_bytes(bytes)
            .await
            .map_err(AppError::internal)?;
        self.blobs
            .store(BlobKind::Image, &staged)
            .await
            .map_err(AppError::internal)?;
        Ok((
            ImageRef {
                sha256: staged.sha256.clone(),
                content_type: info.content_type.to_owned(),
            },
            (info.width, info.height),
        ))
    }

    pub async fn set_icon(&self, user: &User, name: &str, image: Bytes) -> AppResult<Module> {
        let m = self.managed_module(user, name).await?;
        let (img, _) = self.store_image(image).await?;
        self.store.set_module_icon(m.id, Some(&img)).await?;
        Ok(self.store.module_by_id(m.id).await?)
    }

    pub async fn add_screenshot(
        &self,
        user: &User,
        name: &str,
        image: Bytes,
        caption: &str,
    ) -> AppResult<Screenshot> {
        let m = self.managed_module(user, name).await?;
        let caption = text("caption", caption, 0, 200)?;
        if self.store.screenshots(m.id).await?.len() >= 10 {
            return Err(invalid("image", "a module has at most 10 screenshots"));
        }
        let (img, (w, h)) = self.store_image(image).await?;
        Ok(self
            .store
            .add_screenshot(m.id, &img, w.into(), h.into(), &caption, Timestamp::now())
            .await?)
    }

    pub async fn delete_screenshot(&self, user: &User, name: &str, id: i64) -> AppResult<()> {
        let m = self.managed_module(user, name).await?;
        // The image's blob, if nothing else uses it, goes with the orphan sweep.
        self.store.delete_screenshot(m.id, id).await?;
        Ok(())
    }
}
