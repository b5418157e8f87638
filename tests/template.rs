//! template.yaml and the code agree: every HTTP route the template sends to a function
//! is one the function (served here by the local gateway) actually has, and every
//! operation of the API description (generated from the routers) is deployed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use huddle_tests::Api;
use reqwest::{Method, StatusCode};

/// `(method, path)` of every `Type: HttpApi` event in the template.
fn template_routes() -> Vec<(Method, String)> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
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
        let reply = api.call(method.clone(), &concrete, None, None).await;
        let unrouted = (reply.status == StatusCode::NOT_FOUND
            && reply.body["error"]["message"] == "no such route")
            || reply.status == StatusCode::METHOD_NOT_ALLOWED;
        assert!(
            !unrouted,
            "{method} {path} is in template.yaml but not served: {}",
            reply.status
        );
    }
}

/// The routers and the description are one (`routes!`), so this is every route the code has.
#[test]
fn every_described_operation_is_in_the_template() {
    let description: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json"))
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
