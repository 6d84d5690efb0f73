//! The publisher portal: my publishers, a publisher's profile, members and modules, and a
//! module's metadata, media, versions and uploads.
//!
//! Every form handler follows one shape: check the CSRF token, require a signed-in member (a
//! visitor is sent to sign in, a non-member gets the 403 page, a private module someone else
//! owns the 404 page), call the catalog service, then go back to the form's page with a success
//! flash, or with the service's refusal as an error flash (its messages are written for people).

use super::catalog::{ListQuery, viewer};
use super::csrf::{CheckedForm, NoFields};
use super::portal_access::{ManagedModule, MemberOf};
use super::portal_trust::{self, PublisherTrust};
use super::upload::{Sink, read_upload};
use super::views::{CategoryOption, ModuleCard, VersionRow, category_options, date, human_size};
use super::views::{module_url, publisher_url};
use super::{Layout, PageError, WebContext, back, redirect_with_flash, refusal, render};
use crate::AppState;
use crate::services::catalog::{ModuleEdit, publisher_profile};
use crate::views::catalog::{PublisherView, ScreenshotView, image_url};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

/// A `<select>` choice.
pub struct Choice {
    pub value: &'static str,
    pub selected: bool,
}

fn choices(values: &[&'static str], selected: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|&value| Choice {
            value,
            selected: value == selected,
        })
        .collect()
}

const VISIBILITIES: [&str; 3] = ["public", "unlisted", "private"];
const ROLES: [&str; 2] = ["maintainer", "owner"];

// ----- my publishers -----

pub struct MyPublisher {
    pub slug: String,
    pub display_name: String,
    pub role: &'static str,
    pub logo_url: Option<String>,
    pub verified: bool,
    /// Notices not read yet.
    pub unread: i64,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    layout: Layout,
    publishers: Vec<MyPublisher>,
}

pub async fn index(State(state): State<AppState>, ctx: WebContext) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let mut publishers = Vec::new();
    for (p, role) in state.catalog.publishers_of(&user.user).await? {
        publishers.push(MyPublisher {
            unread: portal_trust::unread(&state, &p).await?,
            logo_url: p.logo.as_ref().map(|l| image_url(&l.sha256)),
            verified: p.verified_at.is_some(),
            slug: p.slug,
            display_name: p.display_name,
            role: role.as_str(),
        });
    }
    render(&PortalPage {
        layout: Layout::new("Publisher portal", "portal", &ctx),
        publishers,
    })
}

#[derive(Deserialize)]
pub struct CreatePublisherForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    display_name: String,
}

pub async fn create_publisher(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<CreatePublisherForm>,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let result = match publisher_profile(&form.display_name, None, None, None) {
        Ok(profile) => {
            state
                .catalog
                .create_publisher(&user.user, &form.slug, profile)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => Ok(redirect_with_flash(
            &publisher_url(&p.slug),
            "success",
            &format!("Publisher {} created. Add a module below.", p.slug),
            &ctx,
        )),
        Err(e) => refusal(&ctx, "/portal", e),
    }
}

// ----- one publisher -----

pub struct MemberRow {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: &'static str,
    pub roles: Vec<Choice>,
    pub since: String,
    pub is_me: bool,
}

#[derive(Template)]
#[template(path = "portal_publisher.html")]
struct PublisherPage {
    layout: Layout,
    p: PublisherView,
    role: &'static str,
    owner: bool,
    members: Vec<MemberRow>,
    roles: Vec<Choice>,
    visibilities: Vec<Choice>,
    cards: Vec<ModuleCard>,
    next_url: Option<String>,
    keys: Vec<KeyRow>,
    trust: PublisherTrust,
}

/// A row of the signing keys table.
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub added: String,
    /// Who added it, while they are still a member.
    pub added_by: Option<String>,
    pub revoked: Option<String>,
}

/// The page of older notices on the publisher page.
#[derive(Deserialize, Default)]
pub struct NoticesQuery {
    notices_before: Option<String>,
}

pub async fn publisher(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user,
        publisher: p,
        role,
    }: MemberOf,
    Query(q): Query<ListQuery>,
    Query(nq): Query<NoticesQuery>,
) -> Result<Response, PageError> {
    let before = nq.notices_before.and_then(|b| b.parse().ok());
    let trust = PublisherTrust::load(&state, &p, before).await?;
    let (_, members) = state.catalog.members(&user.user, &p.slug).await?;
    let (_, keys) = state.catalog.publisher_keys(&p.slug).await?;
    let keys = keys
        .into_iter()
        .map(|k| KeyRow {
            added_by: members
                .iter()
                .find(|m| Some(m.user_id) == k.created_by)
                .map(|m| m.display_name.clone()),
            id: k.id,
            name: k.name,
            public_key: k.public_key,
            added: date(k.created_at),
            revoked: k.revoked_at.map(date),
        })
        .collect();
    let listing = state
        .catalog
        .browse(viewer(&ctx), &q.browse(Some(&p.slug)))
        .await?;
    render(&PublisherPage {
        layout: Layout::new(format!("{} · portal", p.display_name), "portal", &ctx),
        role: role.as_str(),
        owner: role == souk_store::MemberRole::Owner,
        members: members
            .into_iter()
            .map(|m| MemberRow {
                is_me: m.user_id == user.user.id,
                user_id: m.user_id,
                display_name: m.display_name,
                email: m.email,
                role: m.role.as_str(),
                roles: choices(&ROLES, m.role.as_str()),
                since: date(m.created_at),
            })
            .collect(),
        roles: choices(&ROLES, "maintainer"),
        visibilities: choices(&VISIBILITIES, "public"),
        next_url: q.next_url(&publisher_url(&p.slug), &listing),
        cards: listing.modules.iter().map(ModuleCard::from).collect(),
        p: PublisherView::from(&p),
        keys,
        trust,
    })
}

#[derive(Deserialize)]
pub struct AddKeyForm {
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    name: String,
}

pub async fn add_key(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    CheckedForm(form): CheckedForm<AddKeyForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .register_publisher_key(&user.actor(), &p.slug, &form.public_key, Some(&form.name))
        .await;
    back(&ctx, &publisher_url(&p.slug), result, |k| {
        format!("Key {} added: uploads may now be signed with it.", k.id)
    })
}

pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    Path((_, id)): Path<(String, String)>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .revoke_publisher_key(&user.actor(), &p.slug, &id)
        .await;
    back(&ctx, &publisher_url(&p.slug), result, |k| {
        format!(
            "Key {} is revoked: no new upload may be signed with it.",
            k.id
        )
    })
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    support_email: String,
}

pub async fn update_profile(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    CheckedForm(form): CheckedForm<ProfileForm>,
) -> Result<Response, PageError> {
    let result = match publisher_profile(
        &form.display_name,
        Some(&form.bio),
        Some(&form.website),
        Some(&form.support_email),
    ) {
        Ok(profile) => {
            state
                .catalog
                .update_publisher(&user.user, &p.slug, profile)
                .await
        }
        Err(e) => Err(e),
    };
    back(&ctx, &publisher_url(&p.slug), result, |_| {
        "Profile saved.".into()
    })
}

pub async fn upload_logo(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    form: Multipart,
) -> Result<Response, PageError> {
    let upload = read_upload(&state, &ctx, form, "logo", Sink::Image).await?;
    let result = match upload.image() {
        Ok(bytes) => {
            state
                .catalog
                .set_publisher_logo(&user.user, &p.slug, bytes)
                .await
        }
        Err(e) => Err(e),
    };
    back(&ctx, &publisher_url(&p.slug), result, |_| {
        "Logo updated.".into()
    })
}

#[derive(Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    CheckedForm(form): CheckedForm<AddMemberForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .add_member(&user.actor(), &p.slug, &form.email, &form.role)
        .await;
    back(&ctx, &publisher_url(&p.slug), result, |m| {
        format!("{} is now a {} of {}.", m.email, m.role.as_str(), p.slug)
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    Path((_, member_id)): Path<(String, i64)>,
    CheckedForm(form): CheckedForm<RoleForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .set_member_role(&user.actor(), &p.slug, member_id, Some(&form.role))
        .await;
    back(&ctx, &publisher_url(&p.slug), result, |()| {
        "Role changed.".into()
    })
}

/// Removes a member, or, when it is the caller, leaves the publisher.
pub async fn remove_member(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    Path((_, member_id)): Path<(String, i64)>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .set_member_role(&user.actor(), &p.slug, member_id, None)
        .await;
    let url = publisher_url(&p.slug);
    match result {
        Ok(()) if member_id == user.user.id => Ok(redirect_with_flash(
            "/portal",
            "success",
            &format!("You left {}.", p.slug),
            &ctx,
        )),
        other => back(&ctx, &url, other, |()| "Member removed.".into()),
    }
}

#[derive(Deserialize)]
pub struct CreateModuleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    visibility: String,
}

pub async fn create_module(
    State(state): State<AppState>,
    ctx: WebContext,
    MemberOf {
        user, publisher: p, ..
    }: MemberOf,
    CheckedForm(form): CheckedForm<CreateModuleForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .create_module(
            &user.user,
            &form.name,
            &p.slug,
            Some(&form.display_name),
            Some(&form.summary),
            Some(&form.visibility)
                .filter(|v| !v.is_empty())
                .map(|v| v.as_str()),
        )
        .await;
    match result {
        Ok(m) => Ok(redirect_with_flash(
            &module_url(&m.name),
            "success",
            &format!("Module {} created. Upload its first version below.", m.name),
            &ctx,
        )),
        Err(e) => refusal(&ctx, &publisher_url(&p.slug), e),
    }
}

// ----- one module -----

#[derive(Template)]
#[template(path = "portal_module.html")]
struct ModulePage {
    layout: Layout,
    m: ModuleCard,
    summary: String,
    description: String,
    tags: String,
    homepage: String,
    repository: String,
    categories: Vec<CategoryOption>,
    visibilities: Vec<Choice>,
    screenshots: Vec<ScreenshotView>,
    versions: Vec<VersionRow>,
    max_upload: String,
}

pub async fn module(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
) -> Result<Response, PageError> {
    let access = state.catalog.module(Some(&user.user), &m.name).await?;
    let versions = state.catalog.versions(&access).await?;
    let screenshots = state.catalog.screenshots(&m).await?;
    let categories = state.catalog.categories().await?;
    render(&ModulePage {
        layout: Layout::new(format!("{} · portal", m.display_name), "portal", &ctx),
        summary: m.summary.clone(),
        description: m.description.clone().unwrap_or_default(),
        tags: m.tags.join(", "),
        homepage: m.homepage.clone().unwrap_or_default(),
        repository: m.repository.clone().unwrap_or_default(),
        categories: category_options(&categories, m.category_id),
        visibilities: choices(&VISIBILITIES, m.visibility.as_str()),
        screenshots: screenshots.iter().map(ScreenshotView::from).collect(),
        versions: VersionRow::list(&m, &versions),
        max_upload: human_size(state.config.packages.max_upload_bytes),
        m: ModuleCard::from(&m),
    })
}

#[derive(Deserialize)]
pub struct EditModuleForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    homepage: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    visibility: String,
}

impl From<EditModuleForm> for ModuleEdit {
    /// Every field of the form is sent, so every field is set; empty ones clear their value.
    fn from(f: EditModuleForm) -> Self {
        ModuleEdit {
            display_name: Some(f.display_name),
            summary: Some(f.summary),
            description: Some(f.description),
            category: Some(f.category),
            homepage: Some(f.homepage),
            repository: Some(f.repository),
            tags: Some(f.tags.split(',').map(str::to_owned).collect()),
            visibility: Some(f.visibility).filter(|v| !v.is_empty()),
        }
    }
}

pub async fn edit_module(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    CheckedForm(form): CheckedForm<EditModuleForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .update_module(&user.user, &m.name, form.into())
        .await;
    back(&ctx, &module_url(&m.name), result, |_| {
        "Module saved.".into()
    })
}

pub async fn upload_icon(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    form: Multipart,
) -> Result<Response, PageError> {
    let upload = read_upload(&state, &ctx, form, "icon", Sink::Image).await?;
    let result = match upload.image() {
        Ok(bytes) => state.catalog.set_icon(&user.user, &m.name, bytes).await,
        Err(e) => Err(e),
    };
    back(&ctx, &module_url(&m.name), result, |_| {
        "Icon updated.".into()
    })
}

pub async fn add_screenshot(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    form: Multipart,
) -> Result<Response, PageError> {
    let upload = read_upload(&state, &ctx, form, "image", Sink::Image).await?;
    let caption = upload.field("caption").to_owned();
    let result = match upload.image() {
        Ok(bytes) => {
            state
                .catalog
                .add_screenshot(&user.user, &m.name, bytes, &caption)
                .await
        }
        Err(e) => Err(e),
    };
    back(&ctx, &module_url(&m.name), result, |_| {
        "Screenshot added.".into()
    })
}

pub async fn delete_screenshot(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, id)): Path<(String, i64)>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .delete_screenshot(&user.user, &m.name, id)
        .await;
    back(&ctx, &module_url(&m.name), result, |()| {
        "Screenshot removed.".into()
    })
}

async fn set_archived(
    state: AppState,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    archived: bool,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .set_archived(&user.user, &m.name, archived)
        .await;
    back(&ctx, &module_url(&m.name), result, |m| {
        if archived {
            format!(
                "{} is archived: it is out of listings and takes no new versions.",
                m.name
            )
        } else {
            format!("{} is active again.", m.name)
        }
    })
}

pub async fn archive(
    State(state): State<AppState>,
    ctx: WebContext,
    module: ManagedModule,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    set_archived(state, ctx, module, true).await
}

pub async fn unarchive(
    State(state): State<AppState>,
    ctx: WebContext,
    module: ManagedModule,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    set_archived(state, ctx, module, false).await
}

/// Publishes the uploaded package as a new version. The file is streamed to a staged file as it
/// arrives, after membership and the CSRF token were checked.
pub async fn upload_version(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    form: Multipart,
) -> Result<Response, PageError> {
    // A suspended publisher or an archived module is refused before the file is read.
    state.catalog.precheck_publish(&user.user, &m.name).await?;
    let limit = state.config.packages.max_upload_bytes;
    let upload = read_upload(&state, &ctx, form, "package", Sink::Package { limit }).await?;
    // The optional `.minisig` file, read as a text field (it is a few hundred bytes).
    let signature = Some(upload.field("signature").to_owned()).filter(|s| !s.trim().is_empty());
    let result = match upload.staged() {
        Ok(staged) => {
            let published = state
                .catalog
                .publish(
                    &user.user,
                    &m.name,
                    staged,
                    &state.config.packages,
                    signature,
                )
                .await;
            state.moderation.wake();
            published
        }
        Err(e) => Err(e),
    };
    back(&ctx, &module_url(&m.name), result, |(m, v)| {
        format!(
            "Uploaded {} {}: the automated checks are running; the version's status shows below.",
            m.name, v.version
        )
    })
}

#[derive(Deserialize)]
pub struct YankForm {
    #[serde(default)]
    reason: String,
}

pub async fn yank(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, version)): Path<(String, String)>,
    CheckedForm(form): CheckedForm<YankForm>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .set_yanked(&user.actor(), &m.name, &version, Some(&form.reason))
        .await;
    back(&ctx, &module_url(&m.name), result, |v| {
        format!(
            "{} {} is yanked: it stays downloadable by exact version but is never the latest.",
            m.name, v.version
        )
    })
}

pub async fn unyank(
    State(state): State<AppState>,
    ctx: WebContext,
    ManagedModule { user, module: m }: ManagedModule,
    Path((_, version)): Path<(String, String)>,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    let result = state
        .catalog
        .set_yanked(&user.actor(), &m.name, &version, None)
        .await;
    back(&ctx, &module_url(&m.name), result, |v| {
        format!("{} {} is available again.", m.name, v.version)
    })
}
