use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

#[test]
fn layers_override_in_order_and_record_sources() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("souk.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n[auth]\nsession_ttl_hours = 2\n",
    )
    .unwrap();
    let layers = Layers {
        file: Some(file),
        env: env(&[
            ("SOUK_LOG", "warn"),
            ("SOUK_AUTH_LOGIN_WINDOW_SECS", "60"),
            ("SOUK_TEST_POSTGRES_URL", "x"),
        ]),
        flags: vec![("listen", "0.0.0.0:7000".into())],
    };
    let c = Config::load(&layers).unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:7000");
    assert_eq!(c.source_of("listen"), Source::Flag);
    assert_eq!((c.log.as_str(), c.source_of("log")), ("warn", Source::Env));
    assert_eq!(
        (
            c.auth.session_ttl_hours,
            c.source_of("auth.session_ttl_hours")
        ),
        (2, Source::File)
    );
    assert_eq!(c.auth.login_window_secs, 60);
    assert_eq!(c.source_of("data_dir"), Source::Default);
}

#[test]
fn unknown_keys_and_bad_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("souk.toml");
    std::fs::write(&file, "[http]\nmax_body = 3\n").unwrap();
    let err = Config::load(&Layers {
        file: Some(file.clone()),
        ..Layers::default()
    })
    .unwrap_err();
    assert_eq!(err, ConfigError::UnknownKey("http.max_body".into()));
    std::fs::write(&file, "listen = 8080\n").unwrap();
    let err = Config::load(&Layers {
        file: Some(file),
        ..Layers::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().starts_with("invalid value for `listen`"),
        "{err}"
    );
    let err = Config::load(&Layers {
        env: env(&[("SOUK_HTTP_TRUST_PROXY_HEADERS", "maybe")]),
        ..Layers::default()
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("`http.trust_proxy_headers`"),
        "{err}"
    );
    let err = Config::load(&Layers {
        env: env(&[("SOUK_DATABASE_URL", "mysql://x")]),
        ..Layers::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("`database_url`"), "{err}");
    let err = Config::load(&Layers {
        env: env(&[("SOUK_LOG", "loud")]),
        ..Layers::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("`log`"), "{err}");
}

#[test]
fn log_filters_are_levels_with_optional_targets() {
    for good in [
        "info",
        "WARN",
        "warn,souk_server=debug",
        "off,souk::jobs=trace",
        "",
    ] {
        assert_eq!(check_log(good), Ok(()), "{good}");
    }
    for bad in ["loud", "info,souk_server=lots", "souk_server=", "info,[bad"] {
        assert!(check_log(bad).is_err(), "{bad}");
    }
}

#[test]
fn render_redacts_secrets() {
    let layers = Layers {
        env: env(&[
            ("SOUK_DATABASE_URL", "postgres://souk:hunter2@db/souk"),
            ("SOUK_SECRET_KEY", &"k".repeat(40)),
        ]),
        ..Layers::default()
    };
    let text = Config::load(&layers).unwrap().render();
    assert!(
        !text.contains("hunter2") && !text.contains(&"k".repeat(40)),
        "{text}"
    );
    assert!(text.contains("postgres://souk:***@db/souk"), "{text}");
    assert!(text.contains("secret_key = \"***\""), "{text}");
    let debug = format!("{:?}", Config::load(&layers).unwrap());
    assert!(
        !debug.contains("hunter2") && debug.contains("REDACTED"),
        "{debug}"
    );
}

#[test]
fn nats_url_is_shown_without_its_password_and_checked() {
    let layers = Layers {
        env: env(&[("SOUK_NATS_URL", "nats://souk:s3cret@nats.internal:4222")]),
        flags: vec![],
        ..Layers::default()
    };
    let config = Config::load(&layers).unwrap();
    assert_eq!(
        config.nats.url.expose_secret(),
        "nats://souk:s3cret@nats.internal:4222"
    );
    let text = config.render();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.contains("url = \"nats://souk:***@nats.internal:4222\""),
        "{text}"
    );
    // The flag wins over the environment.
    let flagged = Config::load(&Layers {
        flags: vec![("nats.url", "nats://127.0.0.1:4222".into())],
        ..layers
    })
    .unwrap();
    assert_eq!(flagged.nats.url.expose_secret(), "nats://127.0.0.1:4222");
    let err = Config::load(&Layers {
        env: env(&[("SOUK_NATS_URL", "http://nats:4222")]),
        ..Layers::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("nats.url"), "{err}");
    // Token authentication: the user name is the secret.
    assert_eq!(
        redact_url("nats://s3cr3tT0ken@nats.internal:4222"),
        "nats://***@nats.internal:4222"
    );
    assert_eq!(redact_url("not a url with user:pass@host"), "***");
}
