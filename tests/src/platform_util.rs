//! Helpers for the plugin-platform end-to-end tests: where the built
//! plugins and hostile fixtures are, and a configuration directory with a
//! `plugins/` drop-in folder the tests fill before starting the daemon.

use std::path::{Path, PathBuf};

/// `$CARGO_TARGET_DIR` (or the target dir above the test executable).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("test executable path");
            exe.ancestors()
                .nth(3)
                .expect("target directory")
                .to_path_buf()
        })
}

/// A built component: `plugins/NAME.wasm` or `fixtures/NAME.wasm` (from
/// `cargo xtask build`).
pub fn wasm(kind: &str, name: &str) -> PathBuf {
    let p = target_dir().join(kind).join(format!("{name}.wasm"));
    assert!(
        p.exists(),
        "{} is not built: run `cargo xtask build`",
        p.display()
    );
    p
}

/// Copy a component into `plugin_dir` with its sidecar text (if any).
pub fn drop_in(plugin_dir: &Path, kind: &str, name: &str, sidecar: Option<&str>) {
    std::fs::create_dir_all(plugin_dir).expect("plugin dir");
    std::fs::copy(wasm(kind, name), plugin_dir.join(format!("{name}.wasm"))).expect("copy wasm");
    if let Some(s) = sidecar {
        std::fs::write(plugin_dir.join(format!("{name}.toml")), s).expect("sidecar");
    }
}

/// The main.cf lines every platform test needs: built-ins from the target
/// dir, drop-ins from `plugin_dir`, relay through `relay_port`.
pub fn main_cf(plugin_dir: &Path, relay_port: u16, extra: &str) -> String {
    format!(
        "builtin_plugin_directory = {}\nplugin_directory = {}\nmydestination = mx.test\n\
         local_recipient_maps =\nmynetworks = 127.0.0.1/32\nrelayhost = [127.0.0.1]:{relay_port}\n{extra}\n",
        target_dir().join("plugins").display(),
        plugin_dir.display()
    )
}
