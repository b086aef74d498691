//! `icefloe config show`, and loading the configuration for every command.

use crate::{Format, Result};
pub use icefloe_linux::config::Loaded;
use std::process::ExitCode;

/// Loads the configuration file the library would (`ICEFLOE_CONFIG`, the
/// user's, the system's), or the defaults.
pub fn load() -> Result<Loaded> {
    Ok(icefloe_linux::config::load()?)
}

/// Prints every value of the effective configuration with where it came
/// from; `--prefix` / `ICEFLOE_PREFIX` override the file's prefix.
pub fn show(loaded: &Loaded, prefix_override: Option<&str>, format: Format) -> Result<ExitCode> {
    let mut values: Vec<(String, String, String)> =
        loaded.values.iter().map(|v| (v.key.clone(), v.value.clone(), v.source.to_string())).collect();
    if let (Some(p), Some(entry)) = (prefix_override, values.iter_mut().find(|v| v.0 == "prefix")) {
        entry.1 = format!("{p:?}");
        entry.2 = if std::env::var("ICEFLOE_PREFIX").ok().as_deref() == Some(p) {
            "ICEFLOE_PREFIX".to_owned()
        } else {
            "--prefix".to_owned()
        };
    }
    let searched: Vec<String> = icefloe_linux::config::search_path().iter().map(|p| p.display().to_string()).collect();
    if format == Format::Json {
        let v = serde_json::json!({
            "file": loaded.file.as_ref().map(|f| f.display().to_string()),
            "searched": searched,
            "values": values.iter().map(|(k, v, s)| serde_json::json!({"key": k, "value": v, "source": s}))
                .collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    match &loaded.file {
        Some(f) => println!("file: {}", f.display()),
        None => println!("file: none found (searched {})", searched.join(", ")),
    }
    let rows: Vec<Vec<String>> = values.into_iter().map(|(k, v, s)| vec![k, v, s]).collect();
    crate::inspect::print_table(&["KEY", "VALUE", "SOURCE"], &rows);
    Ok(ExitCode::SUCCESS)
}
