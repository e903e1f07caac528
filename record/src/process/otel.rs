//! The service name an OpenTelemetry SDK in the process would report, read from its environment
//! (`/proc/PID/environ`): services instrumented for tracing are already named there, and a
//! recording that names them alike can be laid next to their traces.

use super::naming::ServiceSource;

const SERVICE_NAME: &[u8] = b"OTEL_SERVICE_NAME";
const RESOURCE_ATTRIBUTES: &[u8] = b"OTEL_RESOURCE_ATTRIBUTES";
const SERVICE_NAME_ATTRIBUTE: &str = "service.name";

/// `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, from an environment
/// block (`NAME=VALUE` entries separated by NUL bytes). Empty values count as unset, as the
/// OpenTelemetry specification asks.
pub fn service_from_environ(environ: &[u8]) -> Option<(String, ServiceSource)> {
    let mut service_name = None;
    let mut attributes = None;
    for entry in environ.split(|&b| b == 0) {
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (&entry[..eq], &entry[eq + 1..]);
        // Of duplicates, getenv (libc's and Go's) returns the first.
        if key == SERVICE_NAME && service_name.is_none() {
            service_name = Some(value);
        } else if key == RESOURCE_ATTRIBUTES && attributes.is_none() {
            attributes = Some(value);
        }
    }
    if let Some(name) = service_name.and_then(non_empty) {
        return Some((name, ServiceSource::OtelServiceName));
    }
    let attributes = std::str::from_utf8(attributes?).ok()?;
    service_name_attribute(attributes).map(|n| (n, ServiceSource::OtelResourceAttributes))
}

fn non_empty(value: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(value).trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// `service.name` in a `key=value,key=value` list whose values may be percent-encoded. A value
/// that does not decode discards the whole list, as the specification asks of SDKs.
fn service_name_attribute(list: &str) -> Option<String> {
    let mut found = None;
    for pair in list.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = percent_decode(value.trim())?;
        if key.trim() == SERVICE_NAME_ATTRIBUTE {
            // SDKs read the list into a map: the last one wins.
            found = Some(value);
        }
    }
    non_empty(found?.as_bytes())
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            // Checked first: from_str_radix would take a sign ("%+F").
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(entries: &[&str]) -> Vec<u8> {
        entries.join("\0").into_bytes()
    }

    #[test]
    fn service_name_comes_first() {
        let e = env(&[
            "PATH=/bin",
            "OTEL_RESOURCE_ATTRIBUTES=service.name=from-attrs",
            "OTEL_SERVICE_NAME=frontend",
            "",
        ]);
        assert_eq!(
            service_from_environ(&e),
            Some(("frontend".into(), ServiceSource::OtelServiceName))
        );
    }

    #[test]
    fn resource_attributes_when_no_service_name() {
        let e = env(&[
            "OTEL_SERVICE_NAME=  ",
            "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, service.name = check%20out%2Fv2 ,k=v",
        ]);
        assert_eq!(
            service_from_environ(&e),
            Some(("check out/v2".into(), ServiceSource::OtelResourceAttributes))
        );
        assert_eq!(
            service_from_environ(&env(&[
                "OTEL_RESOURCE_ATTRIBUTES=service.name=%C3%A9t%C3%A9"
            ])),
            Some(("été".into(), ServiceSource::OtelResourceAttributes))
        );
        // The last of duplicates wins, as in an SDK's map.
        assert_eq!(
            service_name_attribute("service.name=a,service.name=b"),
            Some("b".into())
        );
    }

    #[test]
    fn nothing_usable() {
        assert_eq!(service_from_environ(b""), None);
        assert_eq!(service_from_environ(&env(&["HOME=/root", "X"])), None);
        assert_eq!(service_from_environ(&env(&["OTEL_SERVICE_NAME="])), None);
        assert_eq!(
            service_from_environ(&env(&["OTEL_RESOURCE_ATTRIBUTES=service.namespace=shop"])),
            None
        );
        assert_eq!(
            service_from_environ(&env(&["OTEL_RESOURCE_ATTRIBUTES=service.name="])),
            None
        );
        // A malformed escape anywhere discards the list.
        assert_eq!(service_name_attribute("service.name=ok,k=%zz"), None);
        assert_eq!(service_name_attribute("service.name=a%2"), None);
        assert_eq!(service_name_attribute("service.name=%FF"), None);
        assert_eq!(service_name_attribute("service.name=%+F"), None);
    }

    #[test]
    fn the_first_of_duplicate_variables_counts() {
        let e = env(&["OTEL_SERVICE_NAME=first", "OTEL_SERVICE_NAME=second"]);
        assert_eq!(
            service_from_environ(&e).map(|(n, _)| n),
            Some("first".into())
        );
    }
}
