//! template.yaml and the code agree: every HTTP route the template sends to a function
//! is one the function (served here by the local gateway) actually has, and every
//! operation of the API description (generated from the routers) is deployed; the
//! gateway serves that description and a docs page that needs nothing from elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_tests::Api;
use reqwest::{Method, StatusCode};

/// `(method, path)` of every `Type: HttpApi` event in the template.
fn template_routes() -> Vec<(Method, String)> {
    let template = std::fs::read_to_string(huddle_tests::repo_file("template.yaml"))
        .expect("template.yaml at the repository root");
    template
        .lines()
        .filter(|line| line.contains("Type: HttpApi"))
        .map(|line| {
            let field = |name: &str| {
                let start = line.find(name).expect("field") + name.len();
                let rest = line[start..].trim_start();
                match rest.strip_prefix('"') {
                    Some(quoted) => quoted[..quoted.find('"').expect("closing quote")].to_owned(),
                    None => rest[..rest.find([',', '}']).unwrap_or(rest.len())]
                        .trim()
                        .to_owned(),
                }
            };
            (field("Method:").parse().unwrap(), field("Path:"))
        })
        .collect()
}

#[tokio::test]
async fn every_template_route_is_served() {
    let api = Api::new();
    let routes = template_routes();
    assert!(routes.len() >= 30, "parsed only {} routes", routes.len());
    for (method, path) in routes {
        // Path parameters become well-formed ids so that routing, not parsing, is tested.
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    ulid::Ulid::new().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        // Raw: the docs page and its assets answer HTML, scripts and styles, not JSON.
        let reply = reqwest::Client::new()
            .request(method.clone(), api.url(&concrete))
            .send()
            .await
            .expect("the gateway is not reachable");
        let status = reply.status();
        let body = reply.text().await.unwrap_or_default();
        let unrouted = (status == StatusCode::NOT_FOUND && body.contains("no such route"))
            || status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(
            !unrouted,
            "{method} {path} is in template.yaml but not served: {status}"
        );
    }
}

/// The routers and the description are one (`routes!`), so this is every route the code has.
#[test]
fn every_described_operation_is_in_the_template() {
    let description: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(huddle_tests::repo_file("openapi.json"))
            .expect("openapi.json at the repository root"),
    )
    .expect("openapi.json is JSON");
    let deployed = template_routes();
    let paths = description["paths"].as_object().expect("paths");
    assert!(paths.len() >= 30, "only {} paths described", paths.len());
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            assert!(
                deployed.contains(&(method.clone(), path.clone())),
                "{method} {path} is described but has no HttpApi event in template.yaml"
            );
        }
    }
}

#[tokio::test]
async fn the_description_and_the_docs_page_are_served_without_a_token() {
    let api = Api::new();
    let client = reqwest::Client::new();
    let served = client
        .get(api.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "application/json");
    let committed = std::fs::read_to_string(huddle_tests::repo_file("openapi.json")).unwrap();
    assert!(
        served.text().await.unwrap() == committed,
        "the gateway serves another openapi.json than the committed one (build after regenerating)"
    );

    let page = client.get(api.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<base href=\"/docs/\">"));
    // Every script, style and icon the page loads is one of ours, served here.
    let loaded: Vec<&str> = html
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|value| value.contains('.') && !value.contains(' '))
        .collect();
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(loaded.contains(&asset), "{asset} in {loaded:?}");
    }
    for asset in loaded {
        let reply = client
            .get(api.url(&format!("/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{asset}");
        let body = reply.bytes().await.unwrap();
        assert!(!body.is_empty(), "{asset}");
        if asset == "swagger-initializer.js" {
            assert!(String::from_utf8_lossy(&body).contains("/v1/openapi.json"));
        }
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    let missing = client.get(api.url("/docs/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
