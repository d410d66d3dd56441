//! Namespaces: the well-known XMP prefixes and which properties are ordered or language
//! alternatives.

pub(crate) const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub(crate) const XML: &str = "http://www.w3.org/XML/1998/namespace";
pub(crate) const DC: &str = "http://purl.org/dc/elements/1.1/";
pub(crate) const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
pub(crate) const IPTC_CORE: &str = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";
pub(crate) const IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
pub(crate) const XMP_RIGHTS: &str = "http://ns.adobe.com/xap/1.0/rights/";
pub(crate) const XMP: &str = "http://ns.adobe.com/xap/1.0/";
pub(crate) const PLUS: &str = "http://ns.useplus.org/ldf/xmp/1.0/";

/// Prefix → URI of the namespaces this crate knows by name. Properties in them are keyed
/// `prefix:Name` whatever prefix a document used.
pub(crate) const KNOWN: &[(&str, &str)] = &[
    ("dc", DC),
    ("photoshop", PHOTOSHOP),
    ("Iptc4xmpCore", IPTC_CORE),
    ("Iptc4xmpExt", IPTC_EXT),
    ("xmpRights", XMP_RIGHTS),
    ("xmp", XMP),
    ("plus", PLUS),
    ("xmpMM", "http://ns.adobe.com/xap/1.0/mm/"),
    ("stEvt", "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"),
    ("stRef", "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"),
    ("stDim", "http://ns.adobe.com/xap/1.0/sType/Dimensions#"),
    ("stArea", "http://ns.adobe.com/xmp/sType/Area#"),
    ("lr", "http://ns.adobe.com/lightroom/1.0/"),
    ("crs", "http://ns.adobe.com/camera-raw-settings/1.0/"),
    ("exif", "http://ns.adobe.com/exif/1.0/"),
    ("exifEX", "http://cipa.jp/exif/1.0/"),
    ("tiff", "http://ns.adobe.com/tiff/1.0/"),
    ("aux", "http://ns.adobe.com/exif/1.0/aux/"),
    ("xmpDM", "http://ns.adobe.com/xmp/1.0/DynamicMedia/"),
    ("pdf", "http://ns.adobe.com/pdf/1.3/"),
    (
        "photomechanic",
        "http://ns.camerabits.com/photomechanic/1.0/",
    ),
    (
        "mwg-rs",
        "http://www.metadataworkinggroup.com/schemas/regions/",
    ),
    ("mediapro", "http://ns.iview-multimedia.com/mediapro/1.0/"),
    ("xmpidq", "http://ns.adobe.com/xmp/Identifier/qual/1.0/"),
    ("GettyImagesGIFT", "http://xmp.gettyimages.com/gift/1.0/"),
    ("MicrosoftPhoto", "http://ns.microsoft.com/photo/1.0/"),
];

/// The known prefix of a namespace URI.
pub(crate) fn prefix_of(uri: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(_, u)| *u == uri).map(|(p, _)| *p)
}

/// The URI of a known prefix.
pub(crate) fn uri_of(prefix: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(p, _)| *p == prefix).map(|(_, u)| *u)
}

/// Properties written as `rdf:Seq` (every other list is an `rdf:Bag`).
const ORDERED: &[&str] = &[
    "dc:creator",
    "dc:date",
    "xmpMM:History",
    "photoshop:TextLayers",
    "exif:ISOSpeedRatings",
    "exif:SubjectArea",
    "exif:ComponentsConfiguration",
    "crs:ToneCurve",
    "crs:ToneCurveRed",
    "crs:ToneCurveGreen",
    "crs:ToneCurveBlue",
    "crs:ToneCurvePV2012",
    "crs:ToneCurvePV2012Red",
    "crs:ToneCurvePV2012Green",
    "crs:ToneCurvePV2012Blue",
    "Iptc4xmpExt:ArtworkOrObject",
];

/// Properties written as language alternatives (`rdf:Alt` with `xml:lang`).
const LANG_ALT: &[&str] = &[
    "dc:title",
    "dc:description",
    "dc:rights",
    "xmpRights:UsageTerms",
    "exif:UserComment",
    "Iptc4xmpExt:AOTitle",
    "Iptc4xmpExt:Event",
    "Iptc4xmpExt:LocationName",
    "Iptc4xmpExt:AOContentDescription",
    "Iptc4xmpExt:AOCreditLine",
    "Iptc4xmpExt:AOCopyrightNotice",
    "Iptc4xmpExt:ProductDescription",
    "Iptc4xmpExt:PersonName",
    "Iptc4xmpExt:PersonDescription",
    "Iptc4xmpExt:OrganisationInImageName",
];

/// Whether a `prefix:Name` list is ordered.
pub(crate) fn is_ordered(key: &str) -> bool {
    ORDERED.contains(&key)
}

/// Whether a `prefix:Name` is a language alternative.
pub(crate) fn is_lang_alt(key: &str) -> bool {
    LANG_ALT.contains(&key)
}
