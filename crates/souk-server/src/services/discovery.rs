//! Discovery's rules: searching and browsing through the index, the featured list admins curate,
//! trending modules, and index maintenance.

use super::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::search::SearchIndex;
use crate::search::query::{SearchParams, SearchRequest, SearchResults, Sort};
use serde_json::json;
use souk_core::Timestamp;
use souk_store::{DynStore, Module, NewAuditEntry, StoreError, User};
use std::collections::HashMap;
use std::sync::Arc;

/// The most modules the featured list holds.
pub const MAX_FEATURED: usize = 50;

#[derive(Clone)]
pub struct Discovery {
    store: DynStore,
    index: Arc<SearchIndex>,
}

impl Discovery {
    pub fn new(store: DynStore, index: Arc<SearchIndex>) -> Self {
        Self { store, index }
    }

    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// Validates and runs a search. `default_sort` applies when the request names none
    /// (relevance for search, newest for the module list).
    pub async fn search(
        &self,
        params: &SearchParams,
        default_sort: Option<Sort>,
    ) -> AppResult<SearchResults> {
        let mut req = SearchRequest::parse(params, &self.store).await?;
        if req.sort.is_none() {
            req.sort = default_sort;
        }
        self.run(&req)
    }

    pub fn run(&self, req: &SearchRequest) -> AppResult<SearchResults> {
        self.index.search(req).map_err(AppError::internal)
    }

    /// Modules growing fastest (see `search::trending`), optionally in one category.
    pub async fn trending(
        &self,
        category: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<SearchResults> {
        let params = SearchParams {
            category: category.map(str::to_owned),
            limit,
            facets: Some("false".into()),
            ..SearchParams::default()
        };
        let mut req = SearchRequest::parse(&params, &self.store).await?;
        req.sort = Some(Sort::Trending);
        req.trending_only = true;
        self.run(&req)
    }

    /// The featured modules that are listed, in order.
    pub async fn featured(&self) -> AppResult<Vec<Module>> {
        Ok(self.store.featured().await?)
    }

    /// Every module on the featured list, listed or not (for the admin page).
    pub async fn featured_for_admin(&self, user: &User) -> AppResult<Vec<Module>> {
        crate::policy::require_admin(user, "curate the featured list")?;
        let mut out = Vec::new();
        for id in self.store.featured_ids().await? {
            match self.store.module_by_id(id).await {
                Ok(m) => out.push(m),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// Replaces the featured list with these module names, in order. Every name must be a
    /// public module; the list is written whole or not at all.
    pub async fn set_featured(
        &self,
        actor: &Actor<'_>,
        names: &[String],
    ) -> AppResult<Vec<Module>> {
        let user = actor.user;
        crate::policy::require_admin(user, "curate the featured list")?;
        let before = self.featured_for_admin(user).await?;
        if names.len() > MAX_FEATURED {
            return Err(AppError::unprocessable(
                "too_many_featured",
                "modules",
                format!("at most {MAX_FEATURED} modules can be featured"),
            ));
        }
        let mut ids = Vec::with_capacity(names.len());
        let mut after = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let field = format!("modules[{i}]");
            let m = match self
                .store
                .module_by_name(&souk_core::normalize_name(name))
                .await
            {
                Ok(m) if m.visibility == souk_store::Visibility::Public => m,
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::unprocessable(
                        "unknown_module",
                        field,
                        format!("there is no public module `{name}`"),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            if ids.contains(&m.id) {
                return Err(AppError::unprocessable(
                    "duplicate_module",
                    field,
                    format!("`{name}` is on the list twice"),
                ));
            }
            ids.push(m.id);
            after.push(m);
        }
        let tx = self.store.begin().await?;
        tx.set_featured(&ids, user.id, Timestamp::now()).await?;
        let names = |list: &[Module]| list.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
        tx.append_audit(&NewAuditEntry {
            before: Some(json!({ "modules": names(&before) })),
            after: Some(json!({ "modules": names(&after) })),
            ..actor.entry("featured.set", "featured", "featured")
        })
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Asks every node to rebuild its index (admins). Answers the change-log id of the request.
    pub async fn request_reindex(&self, actor: &Actor<'_>) -> AppResult<i64> {
        crate::policy::require_admin(actor.user, "rebuild the search index")?;
        let tx = self.store.begin().await?;
        let request = tx.request_search_rebuild(Timestamp::now()).await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "request": request })),
            ..actor.entry("search.reindex", "search_index", "all")
        })
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Listed modules per category slug, subcategories included.
    pub async fn category_counts(&self) -> AppResult<HashMap<String, u64>> {
        let categories = self.store.categories().await?;
        self.index
            .category_counts(&categories)
            .map_err(AppError::internal)
    }
}
