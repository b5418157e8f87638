//! An independent Yjs editor for the document tests: the reference JavaScript
//! implementation (npm `yjs`, installed by `scripts/setup`), run by `tests/yjs/editor.cjs`
//! with Node. The server runs yrs; checking it against the implementation every browser
//! client uses is what makes a convergence test mean something. Updates and state vectors
//! are base64 of the Yjs v1 encoding, as on the wire.

use serde_json::{Value, json};

/// Where `scripts/setup` installs npm packages (`NPM_DIR` overrides).
fn node_modules() -> String {
    match std::env::var("NPM_DIR") {
        Ok(dir) => format!("{dir}/node_modules"),
        Err(_) => crate::repo_file(".local/npm/node_modules")
            .to_string_lossy()
            .into_owned(),
    }
}

/// Runs one request through the editor and returns its answer.
pub async fn call(request: Value) -> Value {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new("node")
            .arg(crate::repo_file("tests/yjs/editor.cjs"))
            .env("NODE_PATH", node_modules())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("node (scripts/setup installs it)");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(request.to_string().as_bytes())
            .expect("writing to the Yjs editor");
        let output = child.wait_with_output().expect("the Yjs editor");
        assert!(
            output.status.success(),
            "the Yjs editor failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&output.stdout);
            panic!("the Yjs editor's answer ({e}): {:.300}", text)
        })
    })
    .await
    .expect("the Yjs editor task")
}

/// One edit by client `client_id` on the document `base` makes (updates applied in order):
/// deletes `delete` characters at `index`, then inserts `insert` there. Returns the edit's
/// own update.
pub async fn edit(
    client_id: u32,
    base: &[String],
    index: usize,
    insert: &str,
    delete: usize,
) -> String {
    let answer = call(json!({
        "op": "edit", "client_id": client_id, "base": base,
        "index": index, "insert": insert, "delete": delete,
    }))
    .await;
    answer["update"].as_str().expect("update").to_owned()
}

/// The text of a fresh document that applied `updates` in this order.
pub async fn text(updates: &[String]) -> String {
    merged(updates).await.0
}

/// `(text, state_vector, state)` of a fresh document that applied `updates` in order.
pub async fn merged(updates: &[String]) -> (String, String, String) {
    let answer = call(json!({"op": "merge", "updates": updates})).await;
    let field = |name: &str| answer[name].as_str().expect(name).to_owned();
    (field("text"), field("state_vector"), field("state"))
}
