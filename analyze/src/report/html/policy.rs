//! What the page may load and run: its Content-Security-Policy, and the one script it lets
//! run, allowed by its hash.
//!
//! The page is opened from disk, often on an air-gapped laptop, and shows strings from the
//! internet. Everything is escaped ([`super::escape`]); the policy is the second wall: nothing
//! is fetched from anywhere, and a script that escaping let through by mistake (an inline one,
//! or an `onerror=` handler) would not run, since only a script with this exact text may.

/// The script that sorts the tables (`sort.js`), inserted as is.
pub const SCRIPT: &str = include_str!("sort.js");

/// The SHA-256 of [`SCRIPT`], base64, as the policy names it. After editing `sort.js`:
/// `openssl dgst -sha256 -binary analyze/src/html/sort.js | openssl base64`. A stale hash
/// stops the script (the browser test fails, and the browser's console names the right hash).
/// `.gitattributes` keeps the file's line ends `\n` on every system, as hashed.
const SCRIPT_SHA256: &str = "j4uelP5WsHUVv4hML/8b2w0Yb6Hb+VyF1b76Xq2u54E=";

/// The policy: nothing from anywhere, except the page's own styles (the `<style>` element
/// and the topology's style attributes), images inlined as `data:`, and [`SCRIPT`].
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
         script-src 'sha256-{SCRIPT_SHA256}'; base-uri 'none'; form-action 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_cannot_end_its_element_early() {
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!SCRIPT.contains('\r'), "hashed with \\n line ends");
    }

    #[test]
    fn the_policy_allows_no_source_outside_the_page() {
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none';"));
        for word in [
            "http",
            "*",
            "'self'",
            "'unsafe-eval'",
            "connect-src",
            "font-src",
        ] {
            assert!(!policy.contains(word), "{word} in {policy}");
        }
        assert!(!policy.contains("script-src 'unsafe-inline'"));
    }
}
