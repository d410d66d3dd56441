//! `MemoryFs` checked against a real file system: random sequences of operations run on
//! both a `MemoryFs` and a `LocalFs` over a temporary folder must give the same results —
//! the same contents, listings and sizes, and errors of the same kind.

use std::collections::BTreeMap;

use bytes::Bytes;
use ftp_connector::{
    EntryKind, ErrorKind, LocalFs, MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteMode,
    WriteOptions, stream,
};
use futures::StreamExt;
use proptest::prelude::*;

/// A small universe of paths, so that operations collide often.
const PATHS: &[&str] = &["a", "b", "a/x", "a/y", "b/x", "a/x/deep", "c d", "é"];

#[derive(Debug, Clone)]
enum Op {
    Mkdir(usize),
    Write(usize, u8, bool, bool),
    Rename(usize, usize),
    RemoveFile(usize),
    RemoveDir(usize),
    Read(usize, u64),
    Stat(usize),
    List(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..PATHS.len();
    prop_oneof![
        i.clone().prop_map(Op::Mkdir),
        (i.clone(), 0u8..4, any::<bool>(), any::<bool>())
            .prop_map(|(p, len, overwrite, in_place)| Op::Write(p, len, overwrite, in_place)),
        (i.clone(), i.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        i.clone().prop_map(Op::RemoveFile),
        i.clone().prop_map(Op::RemoveDir),
        (i.clone(), 0u64..12).prop_map(|(p, o)| Op::Read(p, o)),
        i.clone().prop_map(Op::Stat),
        i.prop_map(Op::List),
    ]
}

/// What an operation returned, in a form both backends can be compared by.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Bytes(Vec<u8>),
    Stat(EntryKind, Option<u64>),
    Listing(Vec<(String, EntryKind, Option<u64>)>),
    Failed(ErrorKind),
}

fn p(i: usize) -> RemotePath {
    RemotePath::parse(PATHS[i]).unwrap()
}

async fn apply(fs: &dyn RemoteFs, op: &Op) -> Outcome {
    let done = |r: ftp_connector::Result<()>| match r {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e.kind()),
    };
    match *op {
        Op::Mkdir(i) => done(fs.create_dir_all(&p(i)).await),
        Op::Write(i, len, overwrite, in_place) => {
            let data = Bytes::from(vec![b'0' + len; usize::from(len) * 3]);
            let mode = if in_place {
                WriteMode::InPlace
            } else {
                WriteMode::Atomic
            };
            let opts = WriteOptions::new().overwrite(overwrite).mode(mode);
            done(fs.write(&p(i), stream::once(data), &opts).await.map(|_| ()))
        }
        Op::Rename(a, b) => done(fs.rename(&p(a), &p(b)).await),
        Op::RemoveFile(i) => done(fs.remove_file(&p(i)).await),
        Op::RemoveDir(i) => done(fs.remove_dir(&p(i)).await),
        Op::Read(i, offset) => match fs.read(&p(i), offset).await {
            Ok(mut s) => {
                let mut out = Vec::new();
                while let Some(c) = s.next().await {
                    match c {
                        Ok(c) => out.extend_from_slice(&c),
                        Err(e) => return Outcome::Failed(e.kind()),
                    }
                }
                Outcome::Bytes(out)
            }
            Err(e) => Outcome::Failed(e.kind()),
        },
        Op::Stat(i) => match fs.stat(&p(i)).await {
            Ok(e) => Outcome::Stat(e.kind, if e.is_file() { e.size } else { None }),
            Err(e) => Outcome::Failed(e.kind()),
        },
        Op::List(i) => {
            let mut items = Vec::new();
            let mut s = fs.list(&p(i));
            while let Some(item) = s.next().await {
                match item {
                    Ok(e) => items.push((
                        e.name().to_owned(),
                        e.kind,
                        if e.is_file() { e.size } else { None },
                    )),
                    Err(e) => return Outcome::Failed(e.kind()),
                }
            }
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Outcome::Listing(items)
        }
    }
}

/// Every file's content, by path.
async fn snapshot(fs: &dyn RemoteFs) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut walk = fs.walk(&RemotePath::ROOT, Default::default());
    while let Some(e) = walk.next().await {
        let e = e.unwrap();
        let body = if e.is_file() {
            Some(fs.read_to_bytes(&e.path).await.unwrap().to_vec())
        } else {
            None
        };
        out.insert(e.path.as_str().to_owned(), body);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn memory_fs_behaves_like_a_local_folder(ops in prop::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let local = LocalFs::new(dir.path()).await.unwrap();
            let memory = MemoryFs::new();
            for (n, op) in ops.iter().enumerate() {
                let want = apply(&local, op).await;
                let got = apply(&memory, op).await;
                prop_assert_eq!(&got, &want, "step {} {:?}: memory vs local", n, op);
            }
            prop_assert_eq!(snapshot(&memory).await, snapshot(&local).await);
            Ok(())
        })?;
    }
}
