//! The recording as a sequence of files: one, or with rotation (`--rotate-size`,
//! `--rotate-secs`) `NAME.00001.parquet`, `NAME.00002.parquet`, … each complete on its own, so
//! that a `kill -9` loses only the segment in progress, and `--max-files` keeps the newest.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::raw_event::Event;
use crate::writer::RecordingWriter;

/// When to start a new file, and how many completed ones to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Start a new segment once the current one holds about this many bytes.
    pub size: Option<u64>,
    /// Start a new segment after this long.
    pub every: Option<Duration>,
    /// Keep at most this many completed segments, removing the oldest.
    pub max_files: Option<usize>,
}

impl Rotation {
    /// Whether the recording is split into segments at all.
    pub fn enabled(&self) -> bool {
        self.size.is_some() || self.every.is_some()
    }
}

/// The file being written and the ones completed.
pub struct Segments {
    base: PathBuf,
    rotation: Rotation,
    /// Number of the current segment, from 1.
    number: u32,
    /// Always `Some` until the recording is closed or abandoned.
    current: Option<RecordingWriter>,
    opened: Instant,
    /// Completed segments still on disk, oldest first.
    kept: VecDeque<PathBuf>,
    /// Every segment completed, including removed ones.
    completed: u32,
    bytes_completed: u64,
}

/// `dir/rec.parquet`, 7 → `dir/rec.00007.parquet`; the name without rotation is `base` itself.
pub fn segment_path(base: &Path, number: u32) -> PathBuf {
    let stem = base
        .file_stem()
        .unwrap_or(base.as_os_str())
        .to_string_lossy();
    let name = match base.extension() {
        Some(ext) => format!("{stem}.{number:05}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{number:05}"),
    };
    base.with_file_name(name)
}

impl Segments {
    /// Opens the first file.
    pub fn create(base: &Path, rotation: Rotation) -> Result<Segments> {
        let first = Self::path_of(base, rotation, 1);
        Ok(Segments {
            base: base.to_path_buf(),
            rotation,
            number: 1,
            current: Some(RecordingWriter::create(&first)?),
            opened: Instant::now(),
            kept: VecDeque::new(),
            completed: 0,
            bytes_completed: 0,
        })
    }

    fn path_of(base: &Path, rotation: Rotation, number: u32) -> PathBuf {
        if rotation.enabled() {
            segment_path(base, number)
        } else {
            base.to_path_buf()
        }
    }

    /// The current segment's number when rotating (for the metadata), else `None`.
    pub fn number(&self) -> Option<u32> {
        self.rotation.enabled().then_some(self.number)
    }

    /// Appends one event to the current segment.
    pub fn push(&mut self, ev: &Event<'_>, service: &str) -> Result<()> {
        match self.current.as_mut() {
            Some(w) => w.push(ev, service),
            None => anyhow::bail!("the recording is already closed"),
        }
    }

    /// Whether the current segment is full (by size) or old enough (by time).
    pub fn due(&self) -> bool {
        let by_size = self
            .rotation
            .size
            .zip(self.current.as_ref())
            .is_some_and(|(max, w)| w.size_estimate() >= max);
        let by_time = self
            .rotation
            .every
            .is_some_and(|every| self.opened.elapsed() >= every);
        by_size || by_time
    }

    /// Completes the current segment with `metadata`, opens the next, and removes the oldest
    /// completed ones beyond `--max-files`.
    pub fn rotate(&mut self, metadata: Vec<(String, String)>) -> Result<()> {
        let next_path = Self::path_of(&self.base, self.rotation, self.number + 1);
        let next = RecordingWriter::create(&next_path)?;
        let current = self.current.replace(next);
        self.number += 1;
        self.opened = Instant::now();
        self.complete(current, metadata)?;
        self.prune()
    }

    /// Completes the last segment. Returns its path and what the recording left on disk.
    pub fn close(mut self, metadata: Vec<(String, String)>) -> Result<(PathBuf, Summary)> {
        let current = self.current.take();
        let done = self.complete(current, metadata)?;
        self.prune()?;
        Ok((done, self.summary()))
    }

    fn summary(&self) -> Summary {
        Summary {
            files: self.completed,
            kept: self.kept.iter().cloned().collect(),
            bytes: self.bytes_completed,
        }
    }

    /// Gives up on the segment in progress (a write failed): its partial file is removed; the
    /// completed ones stay.
    pub fn abandon(mut self) -> Summary {
        if let Some(w) = self.current.take() {
            w.abandon();
        }
        self.summary()
    }

    fn complete(
        &mut self,
        writer: Option<RecordingWriter>,
        metadata: Vec<(String, String)>,
    ) -> Result<PathBuf> {
        let writer = writer.context("the recording is already closed")?;
        let (path, bytes) = writer.close(metadata)?;
        self.kept.push_back(path.clone());
        self.completed += 1;
        self.bytes_completed += bytes;
        Ok(path)
    }

    fn prune(&mut self) -> Result<()> {
        let Some(max) = self.rotation.max_files else {
            return Ok(());
        };
        while self.kept.len() > max {
            if let Some(old) = self.kept.pop_front() {
                std::fs::remove_file(&old)
                    .with_context(|| format!("removing {} (--max-files)", old.display()))?;
            }
        }
        Ok(())
    }
}

/// What a recording left on disk.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Segments completed (some may have been removed by `--max-files`).
    pub files: u32,
    /// Completed segments still on disk, oldest first.
    pub kept: Vec<PathBuf>,
    /// Bytes written in completed segments.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use quadtrace_schema::EventKind;

    #[test]
    fn segment_names_keep_the_extension() {
        assert_eq!(
            segment_path(Path::new("/tmp/rec.parquet"), 7),
            PathBuf::from("/tmp/rec.00007.parquet")
        );
        assert_eq!(
            segment_path(Path::new("out"), 12),
            PathBuf::from("out.00012")
        );
    }

    #[test]
    fn rotates_by_size_and_keeps_the_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("rec.parquet");
        let rotation = Rotation {
            size: Some(1),
            every: None,
            max_files: Some(2),
        };
        let mut s = Segments::create(&base, rotation).expect("create");
        for i in 0..4u64 {
            assert_eq!(s.number(), Some(i as u32 + 1));
            s.push(&Event::sample(EventKind::ServerStart, i, 1, "/a"), "svc")
                .expect("push");
            assert!(s.due(), "one event is more than one byte");
            s.rotate(Vec::new()).expect("rotate");
        }
        let (last, summary) = s.close(Vec::new()).expect("close");
        assert_eq!(last, dir.path().join("rec.00005.parquet"));
        assert_eq!(summary.files, 5);
        assert_eq!(
            summary.kept,
            vec![
                dir.path().join("rec.00004.parquet"),
                dir.path().join("rec.00005.parquet")
            ]
        );
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        left.sort();
        assert_eq!(left, vec!["rec.00004.parquet", "rec.00005.parquet"]);
    }

    #[test]
    fn without_rotation_there_is_one_file_by_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("rec.parquet");
        let mut s = Segments::create(&base, Rotation::default()).expect("create");
        assert_eq!(s.number(), None);
        s.push(&Event::sample(EventKind::ServerStart, 1, 1, "/a"), "svc")
            .expect("push");
        assert!(!s.due());
        let (last, summary) = s.close(Vec::new()).expect("close");
        assert_eq!(last, base);
        assert_eq!(summary.kept, vec![base]);
    }
}
