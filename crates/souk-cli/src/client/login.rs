//! `souk login`: sign in to a marketplace and remember the token in the credentials file (see
//! [`super::config`]), so that later commands need neither `--registry` nor `--token`.

use super::api::{Registry, read_json, refused};
use super::config::{self, Credentials, Settings};
use anyhow::{Context, bail};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use std::io::Read;

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The marketplace's URL [default: the one stored by the last login, else
    /// http://127.0.0.1:8080].
    #[arg(long, env = "SOUK_REGISTRY", value_name = "URL")]
    pub registry: Option<String>,
    /// A token made on the marketplace's /account page (API tokens); checked, then stored.
    #[arg(
        long,
        value_name = "TOKEN",
        conflicts_with = "email",
        required_unless_present = "email"
    )]
    pub token: Option<String>,
    /// Sign in with this account's email and its password, read from standard input.
    #[arg(long, value_name = "EMAIL", requires = "password_stdin")]
    pub email: Option<String>,
    /// Read the password from standard input (its first line).
    #[arg(long, requires = "email")]
    pub password_stdin: bool,
}

/// The account, as `GET /api/v1/me` and the login answer carry it.
#[derive(Deserialize)]
struct User {
    email: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
    user: User,
}

pub async fn run(args: &LoginArgs) -> anyhow::Result<()> {
    let path = config::default_credentials_path()?;
    // A login replaces the stored one, whose registry is only a default here: a broken file must
    // not stand in the way of the login that rewrites it.
    let stored = config::read_credentials(&path).ok().flatten().filter(|c| {
        c.registry
            .as_deref()
            .is_none_or(|r| config::parse_registry(r).is_ok())
    });
    let registry_args = config::RegistryArgs {
        registry: args.registry.clone(),
        token: None,
    };
    let Settings { registry, .. } = config::resolve(&registry_args, stored.as_ref())?;

    let (token, user) = match (&args.token, &args.email) {
        (Some(token), _) => {
            let token = token.trim().to_owned();
            if token.is_empty() {
                bail!("--token is empty");
            }
            let api = Registry::new(Settings {
                registry: registry.clone(),
                token: Some(token.clone()),
            })?;
            let response = api.send_raw(api.request(Method::GET, &["me"])).await?;
            if response.status() == StatusCode::UNAUTHORIZED {
                bail!(
                    "{} did not accept the token: it is wrong, expired or revoked",
                    api.display()
                );
            }
            let user: User = read_json(refused(response, "account").await?).await?;
            (token, user)
        }
        (None, Some(email)) => {
            let password = read_password()?;
            let api = Registry::new(Settings {
                registry: registry.clone(),
                token: None,
            })?;
            let request = api
                .request(Method::POST, &["auth", "login"])
                .json(&json!({ "email": email, "password": password }));
            let response = api.send_raw(request).await?;
            if response.status() == StatusCode::UNAUTHORIZED {
                // The marketplace does not tell which of the two was wrong, on purpose.
                bail!(
                    "{} refused the sign-in: wrong email or password",
                    api.display()
                );
            }
            let answer: LoginAnswer = read_json(refused(response, "account").await?).await?;
            (answer.token, answer.user)
        }
        // clap requires one of the two.
        (None, None) => bail!("give --token TOKEN, or --email EMAIL --password-stdin"),
    };

    let shown = registry.as_str().trim_end_matches('/').to_owned();
    config::write_credentials(
        &path,
        &Credentials {
            registry: Some(shown.clone()),
            token: Some(token),
        },
    )?;
    let name = if user.display_name.is_empty() || user.display_name == user.email {
        user.email.clone()
    } else {
        format!("{} ({})", user.display_name, user.email)
    };
    println!("logged in to {shown} as {name}");
    println!("token stored in {}", path.display());
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input (pipe it in, for example `souk login --email EMAIL --password-stdin < file`)"
        );
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        login: LoginArgs,
    }

    fn parse(args: &[&str]) -> Result<LoginArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("login").chain(args.iter().copied())).map(|c| c.login)
    }

    #[test]
    fn a_token_or_an_email_with_the_password_on_stdin() {
        let a = parse(&["--token", "souk_pat_x", "--registry", "https://x"]).unwrap();
        assert_eq!(a.token.as_deref(), Some("souk_pat_x"));
        assert_eq!(a.registry.as_deref(), Some("https://x"));
        let a = parse(&["--email", "ana@example.com", "--password-stdin"]).unwrap();
        assert_eq!(a.email.as_deref(), Some("ana@example.com"));
        assert!(a.password_stdin);

        // Neither, both, or an email without saying where the password comes from.
        assert!(parse(&[]).is_err());
        assert!(parse(&["--token", "t", "--email", "a@b.c", "--password-stdin"]).is_err());
        assert!(parse(&["--email", "ana@example.com"]).is_err());
        assert!(parse(&["--password-stdin"]).is_err());
    }
}
