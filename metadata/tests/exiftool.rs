//! Cross-checks with exiftool, the reference reader of XMP: exiftool reads what `write_xmp`
//! writes, `read_xmp` reads what exiftool writes, and the CSV reader maps exiftool's `-csv`
//! output to the same fields. Skipped (with a line on stderr) when exiftool is not installed
//! (Debian: `apt-get install libimage-exiftool-perl`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use asset_metadata::csv::MappingBuilder;
use asset_metadata::xmp::{XmpReader, write_xmp_file};
use asset_metadata::{AssetMetadata, CopyrightStatus, Field, ReleaseStatus};
use serde_json::{Value, json};

fn exiftool(args: &[&str]) -> Option<Vec<u8>> {
    let out = match Command::new("exiftool").args(args).output() {
        Ok(out) => out,
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: exiftool not found on PATH (apt-get install libimage-exiftool-perl)"
            );
            return None;
        }
    };
    assert!(
        out.status.success(),
        "exiftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn rich() -> AssetMetadata {
    let mut m = AssetMetadata::default();
    for (f, v) in [
        (Field::Title, "Harbour at dawn"),
        (Field::Headline, "Boats return"),
        (
            Field::Description,
            "Boats & nets, \"early\" <morning>\nsecond line",
        ),
        (Field::CaptionWriter, "J. Editor"),
        (Field::Keywords, "sea; boat; Paris, France"),
        (Field::Creator, "Ana Lima"),
        (Field::CreatorJobTitle, "Staff Photographer"),
        (Field::CreditLine, "Lima Agency"),
        (Field::Source, "Archive"),
        (Field::CopyrightNotice, "© 2023 Ana Lima"),
        (Field::CopyrightStatus, "Copyrighted"),
        (Field::RightsUsageTerms, "Editorial only"),
        (Field::SpecialInstructions, "Embargo until noon"),
        (Field::JobId, "JOB-7"),
        (Field::DateCreated, "2023-05-01T06:12:00+02:00"),
        (Field::Sublocation, "Ribeira"),
        (Field::City, "Porto"),
        (Field::State, "Norte"),
        (Field::Country, "Portugal"),
        (Field::CountryCode, "PT"),
        (Field::Rating, "4"),
        (Field::ModelReleaseStatus, "Limited"),
        (Field::PropertyReleaseStatus, "None"),
    ] {
        m.set(f, v).unwrap();
    }
    m.custom.insert("dc:title@de", "Hafen");
    m.custom
        .insert("Iptc4xmpExt:PersonInImage", vec!["Bo Berg".to_string()]);
    m.custom.insert(
        "Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiEmailWork",
        "ana@example.com",
    );
    m.custom
        .insert("Iptc4xmpExt:LocationShown[1]/Iptc4xmpExt:City", "Gaia");
    m
}

#[test]
fn exiftool_reads_what_write_xmp_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rich.xmp");
    write_xmp_file(&path, &rich()).unwrap();
    let Some(out) = exiftool(&["-j", "-struct", "-n", path.to_str().unwrap()]) else {
        return;
    };
    let json: Vec<Value> = serde_json::from_slice(&out).unwrap();
    let got = &json[0];
    let want = json!({
        "Title": "Harbour at dawn",
        "Title-de": "Hafen",
        "Headline": "Boats return",
        "Description": "Boats & nets, \"early\" <morning>\nsecond line",
        "CaptionWriter": "J. Editor",
        "Subject": ["sea", "boat", "Paris, France"],
        "Creator": ["Ana Lima"],
        "AuthorsPosition": "Staff Photographer",
        "Credit": "Lima Agency",
        "Source": "Archive",
        "Rights": "© 2023 Ana Lima",
        "Marked": true,
        "UsageTerms": "Editorial only",
        "Instructions": "Embargo until noon",
        "TransmissionReference": "JOB-7",
        "DateCreated": "2023:05:01 06:12:00+02:00",
        "Location": "Ribeira",
        "City": "Porto",
        "State": "Norte",
        "Country": "Portugal",
        "CountryCode": "PT",
        "Rating": 4,
        "ModelReleaseStatus": "MR-LMR",
        "PropertyReleaseStatus": "PR-NON",
        "PersonInImage": ["Bo Berg"],
        "CreatorContactInfo": {"CiEmailWork": "ana@example.com"},
        "LocationShown": [{"City": "Gaia"}],
    });
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(got.get(k), Some(v), "{k}: exiftool read {got:#}");
    }
}

#[test]
fn read_xmp_reads_what_exiftool_writes() {
    let dir = tempfile::tempdir().unwrap();
    let args = dir.path().join("args.txt");
    std::fs::write(
        &args,
        "-XMP-dc:Title=Harbour at dawn\n\
         -XMP-dc:Title-de=Hafen\n\
         -XMP-dc:Description=Boats & nets, \"early\"\n\
         -XMP-dc:Subject=sea\n\
         -XMP-dc:Subject=boat\n\
         -XMP-dc:Creator=Ana Lima\n\
         -XMP-dc:Rights=© 2023 Ana Lima\n\
         -XMP-photoshop:Headline=Boats return\n\
         -XMP-photoshop:CaptionWriter=J. Editor\n\
         -XMP-photoshop:AuthorsPosition=Staff Photographer\n\
         -XMP-photoshop:Credit=Lima Agency\n\
         -XMP-photoshop:Source=Archive\n\
         -XMP-photoshop:Instructions=Embargo\n\
         -XMP-photoshop:TransmissionReference=JOB-7\n\
         -XMP-photoshop:DateCreated=2023:05:01 06:12:00+02:00\n\
         -XMP-photoshop:City=Porto\n\
         -XMP-photoshop:State=Norte\n\
         -XMP-photoshop:Country=Portugal\n\
         -XMP-iptcCore:Location=Ribeira\n\
         -XMP-iptcCore:CountryCode=PT\n\
         -XMP-xmpRights:Marked=False\n\
         -XMP-xmpRights:UsageTerms=Editorial only\n\
         -XMP-xmp:Rating=3\n\
         -XMP-plus:ModelReleaseStatus#=MR-UMR\n\
         -XMP-plus:PropertyReleaseStatus#=PR-NAP\n\
         -XMP-iptcExt:PersonInImage=Bo Berg\n\
         -XMP-iptcCore:CreatorWorkEmail=ana@example.com\n",
    )
    .unwrap();
    let xmp = dir.path().join("from-exiftool.xmp");
    let Some(_) = exiftool(&[
        "-q",
        "-@",
        args.to_str().unwrap(),
        "-o",
        xmp.to_str().unwrap(),
    ]) else {
        return;
    };
    let m = XmpReader::new().read_path(&xmp).unwrap();
    let mut want = AssetMetadata::default();
    want.title = Some("Harbour at dawn".into());
    want.description = Some("Boats & nets, \"early\"".into());
    want.keywords.extend(["sea", "boat"]);
    want.creator = Some("Ana Lima".into());
    want.copyright_notice = Some("© 2023 Ana Lima".into());
    want.headline = Some("Boats return".into());
    want.caption_writer = Some("J. Editor".into());
    want.creator_job_title = Some("Staff Photographer".into());
    want.credit_line = Some("Lima Agency".into());
    want.source = Some("Archive".into());
    want.special_instructions = Some("Embargo".into());
    want.job_id = Some("JOB-7".into());
    want.date_created = Some("2023-05-01T06:12:00+02:00".parse().unwrap());
    want.city = Some("Porto".into());
    want.state = Some("Norte".into());
    want.country = Some("Portugal".into());
    want.sublocation = Some("Ribeira".into());
    want.country_code = Some("PT".into());
    want.copyright_status = Some(CopyrightStatus::PublicDomain);
    want.rights_usage_terms = Some("Editorial only".into());
    want.rating = "3".parse().ok();
    want.model_release = Some(ReleaseStatus::Unlimited);
    want.property_release = Some(ReleaseStatus::NotApplicable);
    for f in Field::ALL {
        assert_eq!(m.get(f), want.get(f), "{f}");
    }
    assert_eq!(
        m.custom.get("dc:title@de").and_then(|v| v.as_text()),
        Some("Hafen")
    );
    assert_eq!(
        m.custom
            .get("Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiEmailWork")
            .and_then(|v| v.as_text()),
        Some("ana@example.com")
    );
}

#[test]
fn csv_reader_maps_exiftool_csv_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rich.xmp");
    let mut m = rich();
    // exiftool -csv joins list items with ", ", so keywords with commas cannot round trip.
    m.keywords.remove("Paris, France");
    write_xmp_file(&path, &m).unwrap();
    let from_xmp = XmpReader::new().read_path(&path).unwrap();
    for group in [&["-csv"][..], &["-csv", "-G"][..], &["-csv", "-G1"][..]] {
        let mut args = group.to_vec();
        args.push(path.to_str().unwrap());
        let Some(out) = exiftool(&args) else { return };
        let rows: Vec<_> = MappingBuilder::new()
            .file_name("exiftool.csv")
            .from_reader(&out[..])
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert!(
            Path::new(&rows[0].key).ends_with("rich.xmp"),
            "{}",
            rows[0].key
        );
        for f in Field::ALL {
            assert_eq!(rows[0].metadata.get(f), from_xmp.get(f), "{group:?} {f}");
        }
    }
}
