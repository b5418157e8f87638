//! Takes the files the docs page loads out of the Swagger UI distribution that
//! `utoipa-swagger-ui-vendored` carries (from the crate registry: no download), into
//! `OUT_DIR` for `src/lib.rs` to embed. Only these: the distribution's source maps and other
//! bundles (about 9 MB) are never loaded by the page, and would only weigh on the binary.

use std::io::{Cursor, Read};
use std::path::PathBuf;

/// The distribution's files the page loads (`assets/index.html`).
const PAGE_FILES: [&str; 5] = [
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "index.css",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut archive =
        zip::ZipArchive::new(Cursor::new(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED))?;
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    for file in PAGE_FILES {
        let suffix = format!("/dist/{file}");
        let name = names
            .iter()
            .find(|name| name.ends_with(&suffix))
            .ok_or_else(|| format!("{file} is not in the vendored Swagger UI"))?;
        let mut bytes = Vec::new();
        archive.by_name(name)?.read_to_end(&mut bytes)?;
        std::fs::write(out_dir.join(file), bytes)?;
    }
    Ok(())
}
