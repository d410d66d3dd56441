use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 18, 0, 0).unwrap()
}

fn entry(line: Line) -> Listed {
    match line {
        Line::Entry(e) => e,
        Line::Skip => panic!("skipped"),
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn mlsd_file_with_all_facts_and_a_name_with_spaces_and_semicolons() {
    let e = entry(
        parse_mlsx(
            "type=file;size=1234;modify=20261127150542;UNIX.mode=0644;perm=adfrw; my photo; 1.jpg",
        )
        .unwrap(),
    );
    assert_eq!(e.name, "my photo; 1.jpg");
    assert_eq!(e.kind, EntryKind::File);
    assert_eq!(e.size, Some(1234));
    assert_eq!(e.permissions, Some(0o644));
    let m = e.modified.unwrap();
    assert_eq!(m.time, utc(2026, 11, 27, 15, 5, 42));
    assert_eq!(m.precision, TimePrecision::Second);
}

#[test]
fn mlsd_facts_are_case_insensitive_and_milliseconds_are_kept() {
    let e = entry(parse_mlsx("Type=DIR;Modify=20261127150542.25; sub").unwrap());
    assert_eq!(e.kind, EntryKind::Dir);
    assert_eq!(e.size, None);
    let m = e.modified.unwrap();
    assert_eq!(m.precision, TimePrecision::Millisecond);
    assert_eq!(
        m.time,
        utc(2026, 11, 27, 15, 5, 42) + TimeDelta::milliseconds(250)
    );
}

#[test]
fn mlsd_skips_cdir_pdir_and_dot_dirs_but_keeps_symlinks() {
    assert_eq!(
        parse_mlsx("type=cdir;modify=20261127150542; .").unwrap(),
        Line::Skip
    );
    assert_eq!(parse_mlsx("type=pdir; ..").unwrap(), Line::Skip);
    assert_eq!(parse_mlsx("type=dir; ..").unwrap(), Line::Skip);
    let l = entry(parse_mlsx("type=OS.unix=slink:/etc/passwd; link").unwrap());
    assert_eq!((l.kind, l.name.as_str()), (EntryKind::Symlink, "link"));
    let l = entry(parse_mlsx("type=OS.unix=symlink; l2").unwrap());
    assert_eq!(l.kind, EntryKind::Symlink);
}

#[test]
fn mlsd_names_are_not_judged_here_so_the_lister_can_report_them() {
    // `..` listed as a *file* is not a parent-directory marker: it must reach the name check.
    let e = entry(parse_mlsx("type=file;size=1; ..").unwrap());
    assert_eq!(e.name, "..");
    let e = entry(parse_mlsx("type=file;size=1; a/b").unwrap());
    assert_eq!(e.name, "a/b");
}

#[test]
fn mlsd_garbage_is_an_error_not_an_entry() {
    for bad in [
        "type=file;size=1;name-without-space",
        "size=1; no type",
        "type=file;size=lots; a",
        "type=file;modify=2026; a",
        "type=OS.unix=chr-13/29; tty",
        "type=file;size=1; ",
        "typefile; a",
    ] {
        assert!(parse_mlsx(bad).is_err(), "{bad}");
    }
}

#[test]
fn unix_list_with_spaces_in_names_and_both_date_forms() {
    let e = entry(
        parse_list(
            "-rw-r--r--    1 ftp      ftp          1234 Nov 27 15:05 name with  spaces.jpg",
            now(),
        )
        .unwrap(),
    );
    assert_eq!(e.name, "name with  spaces.jpg");
    assert_eq!(e.size, Some(1234));
    assert_eq!(e.permissions, Some(0o644));
    let m = e.modified.unwrap();
    assert_eq!(
        (m.time, m.precision),
        (utc(2026, 11, 27, 15, 5, 0), TimePrecision::Minute)
    );

    let e = entry(parse_list("drwxr-sr-x 3 u g 4096 Feb  3  2024 Old Shoots", now()).unwrap());
    assert_eq!((e.kind, e.name.as_str()), (EntryKind::Dir, "Old Shoots"));
    assert_eq!(e.size, None);
    assert_eq!(e.permissions, Some(0o2755));
    let m = e.modified.unwrap();
    assert_eq!(
        (m.time, m.precision),
        (utc(2024, 2, 3, 0, 0, 0), TimePrecision::Day)
    );
}

#[test]
fn unix_list_year_less_dates_are_never_in_the_future() {
    // Dec 25 has not come yet on Nov 27 2026: it was last year.
    let e = entry(parse_list("-rw-r--r-- 1 u g 1 Dec 25 10:00 x", now()).unwrap());
    assert_eq!(e.modified.unwrap().time, utc(2025, 12, 25, 10, 0, 0));
    // Feb 29 is placed in the last leap year.
    let e = entry(parse_list("-rw-r--r-- 1 u g 1 Feb 29 10:00 x", now()).unwrap());
    assert_eq!(e.modified.unwrap().time, utc(2024, 2, 29, 10, 0, 0));
}

#[test]
fn unix_list_variants_without_group_or_link_count_symlinks_and_acl_markers() {
    let e = entry(parse_list("-rw-r--r-- 1 owner 77 Jan 02 2025 nogroup", now()).unwrap());
    assert_eq!((e.name.as_str(), e.size), ("nogroup", Some(77)));
    let e = entry(parse_list("-rw-r--r--+ owner group 5 Jan 02 2025 nolinks", now()).unwrap());
    assert_eq!((e.name.as_str(), e.size), ("nolinks", Some(5)));
    let e = entry(
        parse_list(
            "lrwxrwxrwx 1 u g 11 Nov 27 15:05 latest -> 2026/a.jpg",
            now(),
        )
        .unwrap(),
    );
    assert_eq!(
        (e.kind, e.name.as_str(), e.size),
        (EntryKind::Symlink, "latest", None)
    );
    // `->` in a regular file's name is part of the name.
    let e = entry(parse_list("-rw-r--r-- 1 u g 1 Nov 27 15:05 a -> b", now()).unwrap());
    assert_eq!(e.name, "a -> b");
    // A name that looks like a date is still a name.
    let e = entry(parse_list("-rw-r--r-- 1 u g 9 Nov 27 15:05 Dec 1 2020", now()).unwrap());
    assert_eq!(e.name, "Dec 1 2020");
    // The owner may be a number and the group a month-like word.
    let e = entry(parse_list("-rw------- 1 1000 mar 3 Nov 27 15:05 z", now()).unwrap());
    assert_eq!(
        (e.name.as_str(), e.size, e.permissions),
        ("z", Some(3), Some(0o600))
    );
}

#[test]
fn unix_list_skips_totals_and_dot_dirs() {
    assert_eq!(parse_list("total 12", now()).unwrap(), Line::Skip);
    assert_eq!(parse_list("", now()).unwrap(), Line::Skip);
    assert_eq!(
        parse_list("drwxr-xr-x 2 u g 4096 Nov 27 15:05 .", now()).unwrap(),
        Line::Skip
    );
    assert_eq!(
        parse_list("drwxr-xr-x 2 u g 4096 Nov 27 15:05 ..", now()).unwrap(),
        Line::Skip
    );
    // A *file* called `..` is reported, not skipped.
    assert_eq!(
        entry(parse_list("-rw-r--r-- 1 u g 1 Nov 27 15:05 ..", now()).unwrap()).name,
        ".."
    );
}

#[test]
fn dos_list_dirs_files_and_clock_forms() {
    let e =
        entry(parse_list("11-27-26  03:05PM       <DIR>          Event Photos", now()).unwrap());
    assert_eq!((e.kind, e.name.as_str()), (EntryKind::Dir, "Event Photos"));
    let m = e.modified.unwrap();
    assert_eq!(
        (m.time, m.precision),
        (utc(2026, 11, 27, 15, 5, 0), TimePrecision::Minute)
    );
    let e = entry(
        parse_list(
            "01-02-1999  12:10AM              1,234,567 old  scan.tif",
            now(),
        )
        .unwrap(),
    );
    assert_eq!(
        (e.kind, e.size, e.name.as_str()),
        (EntryKind::File, Some(1_234_567), "old  scan.tif")
    );
    assert_eq!(e.modified.unwrap().time, utc(1999, 1, 2, 0, 10, 0));
    let e = entry(parse_list("11-27-26  15:05 42 a.jpg", now()).unwrap());
    assert_eq!(e.modified.unwrap().time, utc(2026, 11, 27, 15, 5, 0));
    let e = entry(parse_list("11-27-26  12:30 PM 42 b.jpg\r", now()).unwrap());
    assert_eq!(
        (e.name.as_str(), e.modified.unwrap().time),
        ("b.jpg", utc(2026, 11, 27, 12, 30, 0))
    );
}

#[test]
fn unparsable_list_lines_are_errors() {
    for bad in [
        "hello world",
        "crw-r--r-- 1 u g 1, 3 Nov 27 15:05 null",
        "-rw-r--r-- 1 u g 1234 Nov 27 15:05",
        "-rw-r--r-- 1 u g lots Nov 27 15:05 x",
        "-rwxrwxrwz 1 u g 1 Nov 27 15:05 x",
        "13-45-26  03:05PM <DIR> x",
        "11-27-26  13:05PM <DIR> x",
        "11-27-26  03:05PM 12a x",
        "11-27-26  03:05PM 12",
    ] {
        assert!(parse_list(bad, now()).is_err(), "{bad}");
    }
}

#[test]
fn fact_times_round_trip_and_reject_garbage() {
    let t = utc(2026, 1, 2, 3, 4, 5);
    assert_eq!(format_fact_time(t), "20260102030405");
    assert_eq!(parse_fact_time("20260102030405").unwrap().time, t);
    for bad in [
        "2026010203040",
        "2026010203040x",
        "20261302030405",
        "20260102030405.x",
    ] {
        assert!(parse_fact_time(bad).is_none(), "{bad}");
    }
}

#[test]
fn feat_reply_is_read_case_insensitively() {
    let feat: std::collections::HashMap<String, Option<String>> = [
        ("MLST", Some("type*;size*;modify*;UNIX.mode*;")),
        ("mfmt", None),
        ("REST", Some("STREAM")),
        ("UTF8", None),
        ("SIZE", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
    .collect();
    let f = Features::from_feat(&feat);
    assert!(f.mlst && f.unix_mode && f.mfmt && f.rest_stream && f.utf8 && f.size);
    assert!(!f.mdtm && !f.epsv);
}
