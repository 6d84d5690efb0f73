//! The catalog's categories: a tree administrators manage, every change on the audit log.

use super::*;

impl Catalog {
    // ----- categories (admins) -----

    pub async fn create_category(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        name: &str,
        parent: Option<&str>,
        position: i64,
    ) -> AppResult<Category> {
        crate::policy::require_admin(actor.user, "manage categories")?;
        let slug = PublisherSlug::parse_syntax(slug).map_err(|e| invalid("slug", e.message))?;
        let name = text("name", name, 1, 60)?;
        let parent_id = category_in(&self.store.categories().await?, "parent", parent)?;
        let tx = self.store.begin().await?;
        let created = tx
            .create_category(slug.as_str(), &name, parent_id, position)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::conflict_with(
                    "slug",
                    format!("a category named {slug} already exists"),
                ),
                other => other.into(),
            })?;
        tx.append_audit(&NewAuditEntry {
            after: Some(category_snapshot(&created)),
            ..actor.entry("category.create", "category", created.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn update_category(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        name: &str,
        parent: Option<&str>,
        position: i64,
    ) -> AppResult<Category> {
        crate::policy::require_admin(actor.user, "manage categories")?;
        let all = self.store.categories().await?;
        let cat = all
            .iter()
            .find(|c| c.slug == slug)
            .ok_or(AppError::NotFound)?;
        let parent_id = category_in(&all, "parent", parent)?;
        // A category cannot move under itself or one of its descendants.
        let mut cursor = parent_id;
        while let Some(id) = cursor {
            if id == cat.id {
                return Err(invalid("parent", "a category cannot be inside itself"));
            }
            cursor = all.iter().find(|c| c.id == id).and_then(|c| c.parent_id);
        }
        let name = text("name", name, 1, 60)?;
        let tx = self.store.begin().await?;
        tx.update_category(cat.id, &name, parent_id, position)
            .await?;
        let updated = Category {
            name,
            parent_id,
            position,
            ..cat.clone()
        };
        tx.append_audit(&NewAuditEntry {
            before: Some(category_snapshot(cat)),
            after: Some(category_snapshot(&updated)),
            ..actor.entry("category.update", "category", cat.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub async fn delete_category(&self, actor: &Actor<'_>, slug: &str) -> AppResult<()> {
        crate::policy::require_admin(actor.user, "manage categories")?;
        let all = self.store.categories().await?;
        let cat = all
            .iter()
            .find(|c| c.slug == slug)
            .ok_or(AppError::NotFound)?;
        let tx = self.store.begin().await?;
        tx.delete_category(cat.id).await.map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::conflict_with(
                "slug",
                format!("{slug} still has subcategories; move or delete them first"),
            ),
            other => other.into(),
        })?;
        tx.append_audit(&NewAuditEntry {
            before: Some(category_snapshot(cat)),
            ..actor.entry("category.delete", "category", cat.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The fields of a category the audit log keeps.
fn category_snapshot(c: &Category) -> serde_json::Value {
    json!({ "name": c.name, "parent_id": c.parent_id, "position": c.position })
}
