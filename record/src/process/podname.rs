//! The workload name in a Kubernetes pod name, which is the hostname of the pod's containers.
//!
//! Controllers name their pods after themselves plus generated parts: a Deployment's pods are
//! `NAME-<pod-template-hash>-<5 chars>`, a StatefulSet's `NAME-<ordinal>`, a DaemonSet's and a
//! Job's `NAME-<5 chars>`. The generated characters come from Kubernetes' "safe" alphabet, which
//! has no vowels and none of `0 1 3`, so that ordinary hyphenated words (`my-backend`, `api-v2`)
//! are not mistaken for generated parts.

/// The alphabet of generated name parts (`k8s.io/apimachinery/pkg/util/rand`).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Length of the random suffix of Deployment, DaemonSet and Job pods.
const SUFFIX_LEN: usize = 5;
/// Lengths of a ReplicaSet's pod-template-hash (a 32-bit hash in the alphabet above).
const HASH_LEN: std::ops::RangeInclusive<usize> = 6..=10;

/// The kind of controller a pod name points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Deployment,
    StatefulSet,
    /// A DaemonSet or a Job: their pod names have the same shape.
    DaemonSetOrJob,
}

/// The workload's name and kind when `hostname` is shaped like a pod name, else `None`.
pub fn workload_of(hostname: &str) -> Option<(&str, Workload)> {
    if !is_dns_label(hostname) {
        return None;
    }
    let (rest, last) = hostname.rsplit_once('-')?;
    if is_generated(last, SUFFIX_LEN..=SUFFIX_LEN) {
        // The longer form first: a Deployment pod would otherwise keep its hash in the name.
        if let Some((name, hash)) = rest.rsplit_once('-') {
            if is_generated(hash, HASH_LEN) && is_name(name) {
                return Some((name, Workload::Deployment));
            }
        }
        if is_name(rest) {
            return Some((rest, Workload::DaemonSetOrJob));
        }
    }
    if is_ordinal(last) && is_name(rest) {
        return Some((rest, Workload::StatefulSet));
    }
    None
}

/// Lower-case letters, digits and hyphens, as Kubernetes requires of a pod's hostname.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A controller's name: starts and ends with a letter or digit.
fn is_name(s: &str) -> bool {
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    alnum(s.bytes().next()) && alnum(s.bytes().last())
}

fn is_generated(s: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| ALPHABET.contains(&b))
}

/// A StatefulSet ordinal: decimal, without leading zeros.
fn is_ordinal(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
        && s.len() <= 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(h: &str) -> Option<&str> {
        workload_of(h).map(|(n, _)| n)
    }

    #[test]
    fn deployment_pods() {
        assert_eq!(
            workload_of("backend-5d9c7b8f4-x2x7q"),
            Some(("backend", Workload::Deployment))
        );
        // Hyphens in the Deployment's own name stay.
        assert_eq!(
            name("my-backend-v2-7f9b5c6d48-qz2wx"),
            Some("my-backend-v2")
        );
        // Hashes of 6 and 10 characters.
        assert_eq!(name("web-b8f4dc-2x7qz"), Some("web"));
        assert_eq!(name("web-5d9c7b8f4z-2x7qz"), Some("web"));
        // A hash of 5 or 11 is no hash: the name is read as a DaemonSet's.
        assert_eq!(
            workload_of("web-5d9c7-2x7qz"),
            Some(("web-5d9c7", Workload::DaemonSetOrJob))
        );
        assert_eq!(
            workload_of("web-5d9c7b8f4zz-2x7qz"),
            Some(("web-5d9c7b8f4zz", Workload::DaemonSetOrJob))
        );
    }

    #[test]
    fn statefulset_pods() {
        assert_eq!(workload_of("db-0"), Some(("db", Workload::StatefulSet)));
        assert_eq!(name("kafka-broker-12"), Some("kafka-broker"));
        // Ordinals have no leading zeros.
        assert_eq!(name("db-01"), None);
    }

    #[test]
    fn daemonset_and_job_pods() {
        assert_eq!(
            workload_of("node-exporter-x2x7q"),
            Some(("node-exporter", Workload::DaemonSetOrJob))
        );
        assert_eq!(name("migrate-db-4bz9k"), Some("migrate-db"));
    }

    #[test]
    fn ordinary_names_are_not_pods() {
        for h in [
            "app",
            "my-backend",
            "api-v2",
            "frontend-main",
            "localhost",
            "web-server-prod",
            "ip-10-0-0-12x",
        ] {
            assert_eq!(workload_of(h), None, "{h}");
        }
    }

    #[test]
    fn wrong_alphabet_is_not_generated() {
        // Vowels and 0, 1, 3 never occur in generated parts.
        assert_eq!(name("backend-5d9c7b8f4-x2x7a"), None);
        assert_eq!(name("backend-5d9c7b8f4-x2x71"), None);
        assert_eq!(name("worker-abcde"), None);
        // A bad hash leaves a DaemonSet-shaped name.
        assert_eq!(name("backend-5a9c7b8f4-x2x7q"), Some("backend-5a9c7b8f4"));
        // Upper case, dots and underscores are not in pod hostnames.
        assert_eq!(name("Backend-5d9c7b8f4-x2x7q"), None);
        assert_eq!(name("backend.ns-x2x7q"), None);
        assert_eq!(name("back_end-x2x7q"), None);
    }

    #[test]
    fn too_short_or_empty_parts() {
        assert_eq!(name("x2x7q"), None);
        assert_eq!(name("-x2x7q"), None);
        assert_eq!(name("web-x2x7"), None);
        assert_eq!(name("web-"), None);
        assert_eq!(name("-0"), None);
        assert_eq!(name("web--x2x7q"), None);
        assert_eq!(name(""), None);
    }
}
