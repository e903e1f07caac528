//! The writer's round trip and the columns each event kind fills.
use super::*;
use parquet::file::reader::{FileReader, SerializedFileReader};
use quadtrace_schema::EventKind;

fn event(kind: EventKind, ts: u64) -> Event<'static> {
    Event::sample(kind, ts, 3, "/echo")
}

#[test]
fn round_trip_keeps_rows_columns_and_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.parquet");
    let mut w = RecordingWriter::create(&path).expect("create");
    assert!(in_progress_path(&path).exists() && !path.exists());
    for i in 0..(BATCH_ROWS as u64 + 5) {
        let kind = if i % 2 == 0 {
            EventKind::ServerStart
        } else {
            EventKind::Spawn
        };
        w.push(&event(kind, i), "svc").expect("push");
    }
    let (final_path, size) = w
        .close(vec![("quadtrace.schema_version".into(), "1".into())])
        .expect("close");
    assert_eq!(final_path, path);
    assert!(size > 0 && !in_progress_path(&path).exists());

    let reader = SerializedFileReader::new(File::open(&path).expect("open")).expect("parquet");
    let meta = reader.metadata().file_metadata();
    assert_eq!(meta.num_rows(), BATCH_ROWS as i64 + 5);
    let names: Vec<&str> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name())
        .collect();
    let expected: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(names, expected);
    let kv = meta.key_value_metadata().expect("kv metadata");
    assert!(kv
        .iter()
        .any(|k| k.key == "quadtrace.schema_version" && k.value.as_deref() == Some("1")));
}

/// Every kind, two services interleaved and each optional field set and unset: the values
/// and nulls read back are those of the schema's column docs.
#[test]
fn columns_apply_to_their_kinds() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, Int64Type};
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::borrow::Cow;
    use EventKind as K;

    let mut events = Vec::new();
    for (i, kind) in EventKind::ALL.into_iter().enumerate() {
        let mut ev = event(kind, i as u64);
        ev.parent_goid = 7;
        ev.ctx = 8;
        ev.ctx_ancestors = [9, 10, 11];
        ev.chan = 12;
        ev.queue = [1, 2, 3, 4];
        ev.in_select = true;
        ev.completed = true;
        ev.error = true;
        ev.truncated = kind == K::Spawn;
        ev.status = matches!(kind, K::ServerEnd | K::ClientEnd).then_some(200);
        ev.value = matches!(kind, K::ChanSend | K::TimerArm).then_some(13);
        ev.route = Cow::Borrowed("GET /users/{id}");
        if matches!(kind, K::ServerStart | K::Connect) {
            ev.remote_addr = Cow::Borrowed("198.19.1.1:40000");
        }
        if matches!(kind, K::Connect | K::Listen | K::ListenEnd) {
            ev.local_addr = Cow::Borrowed("10.0.0.1:5");
            ev.netns = Some(42);
        }
        events.push(ev);
    }
    let mut unrouted = event(K::ServerEnd, 8);
    unrouted.status = Some(404);
    events.push(unrouted);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("k.parquet");
    let mut w = RecordingWriter::create(&path).expect("create");
    let services = ["a", "b", "a", "a", "c", "b", "a", "c", "a", "b", "b", "c"];
    for (ev, svc) in events.iter().zip(services) {
        w.push(ev, svc).expect("push");
    }
    w.close(Vec::new()).expect("close");

    let file = File::open(&path).expect("open");
    let mut reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let b = reader.next().expect("a batch").expect("readable");
    assert_eq!(b.schema(), arrow_schema());
    assert_eq!(b.num_rows(), events.len());
    let strs = |c: &str| -> Vec<Option<String>> {
        let a = b.column_by_name(c).expect(c).as_string::<i32>();
        a.iter().map(|v| v.map(str::to_string)).collect()
    };
    let i64s = |c: &str| -> Vec<Option<i64>> {
        let a = b.column_by_name(c).expect(c).as_primitive::<Int64Type>();
        a.iter().collect()
    };
    let i32s = |c: &str| -> Vec<Option<i32>> {
        let a = b.column_by_name(c).expect(c).as_primitive::<Int32Type>();
        a.iter().collect()
    };
    let bools = |c: &str| -> Vec<Option<bool>> {
        b.column_by_name(c).expect(c).as_boolean().iter().collect()
    };
    let s = |v: &str| Some(v.to_string());

    let kinds: Vec<Option<String>> = events.iter().map(|e| s(e.kind.as_str())).collect();
    assert_eq!(strs(col::KIND), kinds);
    assert_eq!(strs(col::SERVICE), services.map(s).to_vec());
    for (i, ev) in events.iter().enumerate() {
        let k = ev.kind;
        let request = matches!(k, K::ServerStart | K::ClientStart);
        let chan = matches!(k, K::ChanSend | K::ChanRecv);
        let when = |applies: bool, v: i64| applies.then_some(v);
        let row = format!("row {i} ({k})");
        assert_eq!(i64s(col::TS_NS)[i], Some(ev.ts_ns as i64), "{row}");
        assert_eq!(i64s(col::GOID)[i], Some(3), "{row}");
        assert_eq!(i32s(col::PID)[i], Some(1), "{row}");
        assert_eq!(strs(col::METHOD)[i], request.then(|| "GET".into()), "{row}");
        assert_eq!(strs(col::PATH)[i], request.then(|| "/echo".into()), "{row}");
        let listen = (k == K::ServerStart).then(|| "0.0.0.0:9932".into());
        assert_eq!(strs(col::LISTEN_ADDR)[i], listen, "{row}");
        let route = (k == K::ServerEnd && !ev.route.is_empty()).then(|| ev.route.to_string());
        assert_eq!(strs(col::ROUTE)[i], route, "{row}");
        assert_eq!(i32s(col::STATUS)[i], ev.status, "{row}");
        assert_eq!(
            bools(col::ERROR)[i],
            matches!(k, K::ClientEnd | K::ServerEnd).then_some(ev.error),
            "{row}"
        );
        assert_eq!(i64s(col::PARENT_GOID)[i], when(k == K::Spawn, 7), "{row}");
        assert_eq!(i64s(col::CTX)[i], when(request, 8), "{row}");
        assert_eq!(i64s(col::CTX3)[i], when(k == K::ClientStart, 11), "{row}");
        assert_eq!(bools(col::TRUNCATED)[i], Some(k == K::Spawn), "{row}");
        assert_eq!(i64s(col::CHAN)[i], when(chan, 12), "{row}");
        assert_eq!(i64s(col::VALUE)[i], ev.value.map(|v| v as i64), "{row}");
        assert_eq!(i32s(col::SENDX)[i], chan.then_some(3), "{row}");
        assert_eq!(bools(col::IN_SELECT)[i], chan.then_some(true), "{row}");
        assert_eq!(
            bools(col::COMPLETED)[i],
            (k == K::ChanRecv).then_some(true),
            "{row}"
        );
        let socket = matches!(k, K::Connect | K::Listen | K::ListenEnd);
        let remote = matches!(k, K::ServerStart | K::Connect).then(|| "198.19.1.1:40000".into());
        assert_eq!(strs(col::REMOTE_ADDR)[i], remote, "{row}");
        assert_eq!(
            strs(col::LOCAL_ADDR)[i],
            socket.then(|| "10.0.0.1:5".into()),
            "{row}"
        );
        assert_eq!(i64s(col::NETNS)[i], when(socket, 42), "{row}");
    }
    assert_eq!(
        b.column_by_name(col::HOST).expect("host").null_count(),
        events.len() - 2
    );
}
