//! `/api/docs`: a readable API reference rendered on the server from the OpenAPI document, so it
//! needs no JavaScript and no CDN and always matches the running server.

use super::{Layout, PageError, WebContext, render};
use askama::Template;
use axum::response::Response;
use serde_json::Value;

pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    pub auth: bool,
    pub params: Vec<Field>,
    pub body: Option<String>,
    pub responses: Vec<(String, String, Option<String>)>,
    pub anchor: String,
}

pub struct Field {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

pub struct Group {
    pub name: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

pub struct Schema {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    layout: Layout,
    title: String,
    version: String,
    intro: String,
    groups: Vec<Group>,
    schemas: Vec<Schema>,
}

fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")
        .and_then(Value::as_str)
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_owned())
}

/// A short type name for a schema: `string`, `integer`, `[TokenView]`, `UserView`, ...
fn type_name(v: &Value) -> String {
    if let Some(r) = ref_name(v) {
        return r;
    }
    if let Some(one) = v.get("oneOf").and_then(Value::as_array) {
        let parts: Vec<String> = one.iter().map(type_name).filter(|t| t != "null").collect();
        return format!("{}?", parts.join(" | "));
    }
    match v.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!("[{}]", v.get("items").map(type_name).unwrap_or_default())
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            let nullable = ts.iter().any(|t| t == "null");
            let base = if names == ["array"] {
                format!("[{}]", v.get("items").map(type_name).unwrap_or_default())
            } else {
                names.join(" | ")
            };
            if nullable { format!("{base}?") } else { base }
        }
        _ => "object".into(),
    }
}

fn operations(doc: &Value) -> Vec<(String, Operation)> {
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let params = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| Field {
                            name: format!(
                                "{} ({})",
                                p["name"].as_str().unwrap_or_default(),
                                p["in"].as_str().unwrap_or_default()
                            ),
                            kind: type_name(&p["schema"]),
                            required: p["required"].as_bool().unwrap_or(false),
                            description: p["description"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|m| type_name(&m["schema"]));
            let responses = op["responses"]
                .as_object()
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| {
                            let schema = r["content"]
                                .as_object()
                                .and_then(|c| c.values().next())
                                .map(|m| type_name(&m["schema"]));
                            (
                                status.clone(),
                                r["description"].as_str().unwrap_or_default().to_owned(),
                                schema,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let description = op["description"].as_str().unwrap_or_default().to_owned();
            let summary = op["summary"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| description.clone());
            out.push((
                tag,
                Operation {
                    anchor: format!(
                        "{method}-{}",
                        path.trim_matches('/').replace(['/', '{', '}'], "-")
                    ),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    description: if description == summary {
                        String::new()
                    } else {
                        description
                    },
                    summary,
                    auth: op.get("security").is_some(),
                    params,
                    body,
                    responses,
                },
            ));
        }
    }
    out
}

fn schemas(doc: &Value) -> Vec<Schema> {
    let Some(all) = doc["components"]["schemas"].as_object() else {
        return Vec::new();
    };
    all.iter()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut fields: Vec<Field> = s["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(f, v)| Field {
                            name: f.clone(),
                            kind: type_name(v),
                            required: required.contains(&f.as_str()),
                            description: v["description"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            // Flattened structs appear as allOf: gather their parts' fields too.
            if let Some(parts) = s["allOf"].as_array() {
                for part in parts {
                    if let Some(r) = ref_name(part) {
                        fields.push(Field {
                            name: "…".into(),
                            kind: r,
                            required: true,
                            description: "and every field of".into(),
                        });
                    }
                    if let Some(props) = part["properties"].as_object() {
                        for (f, v) in props {
                            fields.push(Field {
                                name: f.clone(),
                                kind: type_name(v),
                                required: true,
                                description: v["description"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            });
                        }
                    }
                }
            }
            Schema {
                name: name.clone(),
                fields,
            }
        })
        .collect()
}

/// The API's OpenAPI document, handed to the web pages by [`crate::app`].
#[derive(Clone, Copy)]
pub struct ApiDocument(pub &'static utoipa::openapi::OpenApi);

pub async fn page(
    ctx: WebContext,
    axum::Extension(ApiDocument(document)): axum::Extension<ApiDocument>,
) -> Result<Response, PageError> {
    let doc = serde_json::to_value(document)
        .map_err(|e| PageError(crate::error::AppError::internal(e)))?;
    let mut groups: Vec<Group> = doc["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| Group {
                    name: t["name"].as_str().unwrap_or_default().to_owned(),
                    description: t["description"].as_str().unwrap_or_default().to_owned(),
                    operations: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    for (tag, op) in operations(&doc) {
        match groups.iter_mut().find(|g| g.name == tag) {
            Some(g) => g.operations.push(op),
            None => groups.push(Group {
                name: tag,
                description: String::new(),
                operations: vec![op],
            }),
        }
    }
    render(&DocsPage {
        layout: Layout::new("API reference", "docs", &ctx),
        title: doc["info"]["title"].as_str().unwrap_or("API").to_owned(),
        version: doc["info"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        intro: doc["info"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        groups,
        schemas: schemas(&doc),
    })
}
