//! The counts the decoder (and analyze) trust, checked before anything is decoded or sized by
//! them: the footer's row and value counts, and the page headers'.
//!
//! A Parquet decoder trusts a page header's counts: a data page whose value count a flipped
//! bit has made negative can be turned into a capacity of about 2^61 bytes, and a failed
//! allocation aborts the process, which no panic guard can catch (see [`crate::read::guard`]). A
//! footer's row count bent huge would have analyze loop over billions of slices. So the
//! footer's counts must agree ([`check_counts`]), and before a row group is decoded, every page
//! header of the columns to be read is parsed here (with the Thrift definitions of
//! `polars-parquet-format`) and held against the column chunk it sits in: sizes that fit the
//! chunk, value counts that are not negative and add up to the chunk's count. Only headers are
//! looked at, never page contents, so this costs one read of the chunks' bytes, a small part of
//! decoding them.

use std::fs::File;
use std::ops::Range;

use parquet::file::metadata::ParquetMetaData;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{PageHeader, PageType};

/// A column chunk's place in the file and what its footer entry says of it.
struct Chunk {
    bytes: Range<u64>,
    values: i64,
    uncompressed: i64,
}

/// Checks the footer's counts against each other: the file's rows are its row groups' rows,
/// and every column chunk of a row group holds one value a row (the recordings' columns are
/// flat). [`check_pages`] then holds each chunk's count against its pages, so that a count
/// bent huge by damage is caught before anything is sized or looped over by it.
pub(crate) fn check_counts(footer: &ParquetMetaData) -> Result<(), String> {
    let mut rows = 0i64;
    for (group_index, group) in footer.row_groups().iter().enumerate() {
        let group_rows = group.num_rows();
        if group_rows < 0 {
            return Err(format!("row group {group_index} has {group_rows} rows"));
        }
        rows = rows
            .checked_add(group_rows)
            .ok_or("the row groups' rows overflow")?;
        for column in group.columns() {
            if column.num_values() != group_rows {
                return Err(format!(
                    "row group {group_index} has {group_rows} rows but its column {} has {} values",
                    column.column_path(),
                    column.num_values()
                ));
            }
        }
    }
    let said = footer.file_metadata().num_rows();
    if rows != said {
        return Err(format!(
            "the footer says {said} rows, its row groups hold {rows}"
        ));
    }
    Ok(())
}

/// Checks the page headers of `columns` in row group `group` of the file `footer` describes.
/// The error says which column, row group and page, and what is wrong.
pub(crate) fn check_pages(
    file: &File,
    footer: &ParquetMetaData,
    columns: &[&str],
    group: usize,
) -> Result<(), String> {
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let meta = footer
        .row_groups()
        .get(group)
        .ok_or_else(|| format!("there is no row group {group}"))?;
    let mut buffer = Vec::new();
    for column in meta.columns() {
        let name = column.column_path().string();
        if !columns.contains(&name.as_str()) {
            continue;
        }
        // Where the chunk lies, as `byte_range` would say but for its panic on negatives.
        let start = column
            .dictionary_page_offset()
            .unwrap_or_else(|| column.data_page_offset());
        let (Ok(start), Ok(len)) = (
            u64::try_from(start),
            u64::try_from(column.compressed_size()),
        ) else {
            return Err(format!(
                "column {name}, row group {group}: the column chunk's footer entry has a negative offset or size"
            ));
        };
        let chunk = Chunk {
            bytes: start..start.saturating_add(len),
            values: column.num_values(),
            uncompressed: column.uncompressed_size(),
        };
        check_chunk(file, file_len, &chunk, &mut buffer)
            .map_err(|problem| format!("column {name}, row group {group}: {problem}"))?;
    }
    Ok(())
}

/// Reads the chunk's bytes into `buffer` and walks its pages, header to header.
fn check_chunk(
    file: &File,
    file_len: u64,
    chunk: &Chunk,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    let Range { start, end } = chunk.bytes;
    if start > end || end > file_len {
        return Err(format!(
            "the column chunk lies outside the file (bytes {start}..{end} of {file_len})"
        ));
    }
    if chunk.values < 0 || chunk.uncompressed < 0 {
        return Err("the column chunk's footer entry has a negative count".to_owned());
    }
    let len = usize::try_from(end - start).map_err(|e| e.to_string())?;
    buffer.clear();
    buffer.resize(len, 0);
    read_at(file, buffer, start).map_err(|e| e.to_string())?;
    walk_pages(buffer, chunk)
}

/// Fills `buffer` from `file` at `offset`. Unix and Windows read at an offset, leaving the
/// file's position alone; elsewhere the position is moved (harmless: the decoder seeks before
/// each of its reads).
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> Result<(), String> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
        .map_err(|e| e.to_string());
    #[cfg(windows)]
    return windows_read_at(file, buffer, offset);
    #[cfg(not(any(unix, windows)))]
    return portable_read_at(file, buffer, offset);
}

#[cfg(windows)]
fn windows_read_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> Result<(), String> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset) {
            Ok(0) => return Err("the file ends before the column chunk".to_owned()),
            Ok(n) => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// Where there is no positioned read: seek, then read (compiled everywhere, so that building
/// on Linux checks it).
#[cfg_attr(any(unix, windows), allow(dead_code))]
fn portable_read_at(file: &File, buffer: &mut [u8], offset: u64) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut own = file.try_clone().map_err(|e| e.to_string())?;
    own.seek(SeekFrom::Start(offset))
        .and_then(|_| own.read_exact(buffer))
        .map_err(|e| e.to_string())
}

/// Parses each page header in `bytes` (one column chunk) and checks it against the chunk.
fn walk_pages(bytes: &[u8], chunk: &Chunk) -> Result<(), String> {
    let mut rest = bytes;
    let mut seen: i64 = 0;
    let mut page = 0usize;
    while seen < chunk.values {
        if rest.is_empty() {
            return Err(format!(
                "the pages hold {seen} values, the footer says {}",
                chunk.values
            ));
        }
        let before = rest.len();
        // The header may not claim more memory (statistics, say) than the chunk has bytes.
        let mut protocol = TCompactInputProtocol::new(&mut rest, before);
        let header = PageHeader::read_from_in_protocol(&mut protocol)
            .map_err(|e| format!("page {page}: unreadable header ({e})"))?;
        let values = check_header(&header, rest.len(), chunk.uncompressed)
            .map_err(|problem| format!("page {page}: {problem}"))?;
        seen = seen
            .checked_add(values)
            .filter(|total| *total <= chunk.values)
            .ok_or_else(|| {
                format!(
                    "page {page}: its {values} values pass the chunk's {} ({seen} before it)",
                    chunk.values
                )
            })?;
        // check_header made sure the page fits in what is left.
        rest = &rest[header.compressed_page_size as usize..];
        page += 1;
    }
    Ok(())
}

/// Checks one page header, `left` being the chunk's bytes after it; returns the number of
/// values it adds to the chunk's count (none for a dictionary page).
fn check_header(header: &PageHeader, left: usize, uncompressed_limit: i64) -> Result<i64, String> {
    let compressed = header.compressed_page_size;
    let uncompressed = header.uncompressed_page_size;
    if compressed < 0 || compressed as usize > left {
        return Err(format!(
            "its size {compressed} does not fit the {left} bytes left in the chunk"
        ));
    }
    if uncompressed < 0 || i64::from(uncompressed) > uncompressed_limit {
        return Err(format!(
            "its decoded size {uncompressed} does not fit the chunk's {uncompressed_limit}"
        ));
    }
    let count = |what: &str, n: i32| {
        if n < 0 {
            Err(format!("its {what} is negative ({n})"))
        } else {
            Ok(i64::from(n))
        }
    };
    match header.type_ {
        PageType::DICTIONARY_PAGE => {
            let dict = header
                .dictionary_page_header
                .as_ref()
                .ok_or("a dictionary page without its header")?;
            let entries = count("dictionary size", dict.num_values)?;
            // Every dictionary entry takes at least four bytes (a length or a fixed-width
            // value), so a larger count is a bent one that would size a huge buffer.
            if entries.saturating_mul(4) > i64::from(uncompressed) {
                return Err(format!(
                    "its {entries} dictionary entries cannot fit in {uncompressed} bytes"
                ));
            }
            Ok(0)
        }
        PageType::DATA_PAGE => {
            let data = header
                .data_page_header
                .as_ref()
                .ok_or("a data page without its header")?;
            count("value count", data.num_values)
        }
        PageType::DATA_PAGE_V2 => {
            let data = header
                .data_page_header_v2
                .as_ref()
                .ok_or("a data page without its header")?;
            let values = count("value count", data.num_values)?;
            let nulls = count("null count", data.num_nulls)?;
            let rows = count("row count", data.num_rows)?;
            let levels = count(
                "definition levels' size",
                data.definition_levels_byte_length,
            )? + count(
                "repetition levels' size",
                data.repetition_levels_byte_length,
            )?;
            if nulls > values || rows > values {
                return Err(format!(
                    "its {nulls} nulls or {rows} rows pass its {values} values"
                ));
            }
            if levels > i64::from(compressed) {
                return Err(format!(
                    "its levels' {levels} bytes pass the page's {compressed}"
                ));
            }
            Ok(values)
        }
        PageType::INDEX_PAGE => Ok(0),
        other => Err(format!("unknown page type {}", other.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_parquet_format::{DataPageHeader, DictionaryPageHeader, Encoding};

    fn data_page(values: i32, compressed: i32) -> PageHeader {
        let data = DataPageHeader::new(values, Encoding::PLAIN, Encoding::RLE, Encoding::RLE, None);
        PageHeader::new(
            PageType::DATA_PAGE,
            64,
            compressed,
            None,
            data,
            None,
            None,
            None,
        )
    }

    /// A dictionary page of `entries` in 16 bytes.
    fn dictionary_page(entries: i32) -> PageHeader {
        let dict = DictionaryPageHeader::new(entries, Encoding::PLAIN, None);
        let kind = PageType::DICTIONARY_PAGE;
        PageHeader::new(kind, 16, 16, None, None, None, dict, None)
    }

    #[test]
    fn a_sound_header_counts_its_values() {
        assert_eq!(check_header(&data_page(10, 40), 40, 64), Ok(10));
        assert_eq!(check_header(&dictionary_page(3), 100, 64), Ok(0));
        let header = dictionary_page(5);
        let err = check_header(&header, 100, 64).expect_err("5 entries in 16 bytes");
        assert!(
            err.contains("5 dictionary entries cannot fit in 16 bytes"),
            "{err}"
        );
    }

    /// A chunk of pages whose headers are `headers`, each followed by its (zeroed) body.
    fn chunk_of(headers: &[PageHeader]) -> Vec<u8> {
        use polars_parquet_format::thrift::protocol::TCompactOutputProtocol;
        let mut bytes = Vec::new();
        for header in headers {
            let mut protocol = TCompactOutputProtocol::new(&mut bytes);
            header.write_to_out_protocol(&mut protocol).expect("write");
            bytes.resize(bytes.len() + header.compressed_page_size as usize, 0);
        }
        bytes
    }

    #[test]
    fn a_chunk_s_pages_must_hold_its_values() {
        let chunk = |values| Chunk {
            bytes: 0..0,
            values,
            uncompressed: 1000,
        };
        let pages = chunk_of(&[data_page(10, 40), data_page(5, 20)]);
        assert_eq!(walk_pages(&pages, &chunk(15)), Ok(()));
        let err = walk_pages(&pages, &chunk(12)).expect_err("more values than the chunk");
        assert!(
            err.contains("page 1: its 5 values pass the chunk's 12"),
            "{err}"
        );
        let err = walk_pages(&pages, &chunk(16)).expect_err("fewer");
        assert!(
            err.contains("the pages hold 15 values, the footer says 16"),
            "{err}"
        );
        let err = walk_pages(&pages[..10], &chunk(15)).expect_err("cut short");
        assert!(err.starts_with("page 0: "), "{err}");
    }

    #[test]
    fn bent_counts_and_sizes_are_refused() {
        let err = check_header(&data_page(-33, 40), 40, 64).expect_err("negative count");
        assert!(err.contains("value count is negative (-33)"), "{err}");
        let err = check_header(&data_page(10, 41), 40, 64).expect_err("too long");
        assert!(err.contains("does not fit the 40 bytes left"), "{err}");
        let err = check_header(&data_page(10, 40), 40, 63).expect_err("too big decoded");
        assert!(err.contains("decoded size 64"), "{err}");
        let mut unknown = data_page(1, 1);
        unknown.type_ = PageType(9);
        assert!(check_header(&unknown, 40, 64).is_err());
    }
}
