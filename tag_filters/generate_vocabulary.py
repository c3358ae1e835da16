#!/usr/bin/env python3
"""Builds tag_filters/default_tags.tsv and tag_filters/tag_names.tsv from the iD
editor's tagging schema (npm package @openstreetmap/id-tagging-schema, ISC licence,
(c) iD contributors) and the reviewed tag_filters/overrides.tsv.

    python3 tag_filters/generate_vocabulary.py SCHEMA_PACKAGE_DIR

The rules (which presets are visible from above, and the GSD class of each) are
written out below and explained with examples in tag_filters/README.md.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GSD_CLASSES = (0.1, 0.2, 0.6, 1.0, 10.0)

# --- Rule 1: key families whose presets can be the subject of an aerial image. -----
# Order = priority when an object has several feature tags (earlier wins ties).
FEATURE_KEYS = [
    "building", "landuse", "natural", "leisure", "amenity", "highway", "railway", "waterway",
    "water", "man_made", "power", "aeroway", "barrier", "historic", "tourism", "military",
    "place", "junction", "bridge", "golf", "emergency", "playground", "aerialway",
    "area:highway", "public_transport", "traffic_calming", "attraction", "cemetery",
    "building:part", "telecom",
]
# Rule 1b: qualifier keys that name a visible kind of thing on their own: in compound
# presets (natural=water + water=lake is "Lake", leisure=pitch + sport=tennis is
# "Tennis Court") their value is a feature too, with the preset's GSD class; their
# field options are added with the key's default class below.
SECONDARY_FEATURE_KEYS = {
    "sport": 1, "water": 10, "wetland": 10, "military": 10, "tower:type": 0.6, "crossing": 0.2,
    "footway": 0.6, "cycleway": 0.6, "manhole": 0.1, "fitness_station": 0.2, "athletics": 1,
    "generator:source": 1, "plant:source": 10, "service": 0.6, "shelter_type": 0.6, "kerb": 0.2,
    "artwork_type": 0.6, "parking": 1, "crop": 10, "trees": 1, "industrial": 10, "castle_type": 1,
    "memorial": 0.6, "basin": 1, "substation": 1, "bunker_type": 1, "garden:type": 1, "reservoir_type": 1,
}

# Families never visible from above (inside buildings, or services rather than things).
INVISIBLE_KEYS = {
    "shop", "craft", "office", "healthcare", "vending", "indoor", "entrance", "club",
    "advertising", "seamark:type", "traffic_sign", "piste:type", "internet_access", "type",
    "polling_station", "education", "addr:*", "boundary", "route", "disused:*", "was:*",
    "abandoned:*", "demolished:*", "cuisine", "brand",
}
# Rule 2: point-only presets (no line or area geometry) of these families are small
# POIs not told apart from above (atm, post box, information board, ...).
# Rule 2b: presets of these families that offer iD's `building_area` field are
# businesses or services housed in a building (restaurant, bank, pharmacy, hotel):
# seen from above they are the building, so they are left out too.
BUILDING_POI_KEYS = {"amenity", "tourism", "leisure"}
POINT_POI_KEYS = {"amenity", "tourism", "leisure", "emergency", "historic", "attraction", "place", "public_transport", "telecom"}

# Rule 3: GSD class by geometry and family; values named here differ from their family.
POINT_GSD = {"natural": 0.6, "man_made": 0.6, "aeroway": 0.6, "waterway": 0.6, "golf": 0.6,
             "military": 0.6, "aerialway": 0.6}                 # others: 0.2
LINE_GSD = {
    "highway": {"motorway": 10, "trunk": 10, "motorway_link": 1, "trunk_link": 1, "primary": 1,
                "primary_link": 1, "secondary": 1, "secondary_link": 1, "tertiary": 1,
                "tertiary_link": 1, "*": 0.6},
    "railway": {"rail": 1, "light_rail": 1, "subway": 1, "narrow_gauge": 1, "*": 0.6},
    "waterway": {"river": 10, "canal": 10, "ditch": 0.6, "drain": 0.6, "*": 1},
    "power": {"line": 1, "*": 0.6},
    "barrier": {"*": 0.6},
    "natural": {"coastline": 10, "*": 1},
    "man_made": {"*": 0.6},
    "*": {"*": 1},
}
AREA_GSD = {
    "landuse": {"*": 10, "garages": 1, "grass": 1, "flowerbed": 0.6, "village_green": 1, "construction": 1,
                "railway": 1, "cemetery": 1, "religious": 1, "allotments": 1, "vineyard": 1, "orchard": 1},
    "natural": {"*": 10, "tree": 0.6, "shrubbery": 0.6, "rock": 1, "stone": 0.6, "cave_entrance": 0.6,
                "spring": 0.6, "sinkhole": 1},
    "military": {"*": 10, "bunker": 1},
    "place": {"*": 10, "square": 1, "plot": 1, "islet": 1},
    "building": {"*": 1, "house": 0.6, "detached": 0.6, "semidetached_house": 0.6, "garage": 0.6,
                 "shed": 0.6, "hut": 0.6, "cabin": 0.6, "bungalow": 0.6, "kiosk": 0.6, "carport": 0.6,
                 "toilets": 0.6, "static_caravan": 0.6, "greenhouse": 0.6, "roof": 0.6, "gatehouse": 0.6},
    "leisure": {"*": 1, "golf_course": 10, "nature_reserve": 10, "park": 10, "swimming_pool": 0.6,
                "playground": 0.6, "picnic_table": 0.2, "firepit": 0.2, "bandstand": 0.6},
    "aeroway": {"*": 1, "aerodrome": 10, "runway": 10, "apron": 10, "helipad": 0.6},
    "power": {"*": 1, "plant": 10, "generator": 0.6, "transformer": 0.2},
    "waterway": {"*": 1, "riverbank": 10},
    "man_made": {"*": 1, "storage_tank": 0.6, "silo": 0.6, "water_tower": 0.6, "chimney": 0.6,
                 "tower": 0.6, "lighthouse": 0.6, "mast": 0.2, "antenna": 0.2, "flagpole": 0.2},
    "amenity": {"*": 1, "fountain": 0.6, "shelter": 0.6, "parking_space": 0.2, "bicycle_parking": 0.2,
                "motorcycle_parking": 0.2, "bench": 0.1, "waste_disposal": 0.2},
    "*": {"*": 1},
}
# Rule 4: `key=*` entries for families where any value is a visible thing.
WILDCARDS = {"building": 1, "landuse": 10, "natural": 1, "leisure": 1, "waterway": 1, "highway": 0.6,
             "railway": 1, "aeroway": 1, "power": 0.6, "man_made": 0.6, "barrier": 0.6, "military": 10,
             "golf": 1, "aerialway": 1, "building:part": 1}

# Rule 5: attribute keys (describe a feature, never the subject) that change what the
# image shows, with their GSD class. Emitted when the iD schema has a field for them.
ATTRIBUTES = {
    # ways and surfaces
    "surface": 0.6, "smoothness": 0.6, "tracktype": 0.6, "lanes": 0.6, "width": 1, "oneway": 1,
    "covered": 1, "lit": 0.6, "bridge": 1, "tunnel": 1, "bridge:support": 0.6,
    "bridge:structure": 1, "segregated": 0.6, "sidewalk": 0.6, "sidewalk:both": 0.6, "cycleway": 0.6,
    "cycleway:both": 0.6, "parking:both": 0.6, "parking:both:orientation": 0.6, "lane_markings": 0.6,
    "junction": 1, "crossing": 0.2, "crossing:markings": 0.2, "crossing:island": 0.2, "kerb": 0.2,
    "service": 1, "parking": 1, "capacity": 1, "electrified": 1, "gauge": 1, "tracks": 1, "usage": 1,
    "incline": 1, "expressway": 1, "motorroad": 1, "highspeed": 1,
    # buildings and roofs
    "building:levels": 1, "building:material": 0.6, "building:colour": 0.6, "roof:shape": 0.6,
    "roof:material": 0.6, "roof:colour": 0.6, "roof:levels": 1, "roof:orientation": 0.6,
    "roof:direction": 0.6, "height": 1, "roof:height": 1,
    "building:architecture": 1, "building:prefabricated": 1, "house": 0.6,
    # land cover and water
    "crop": 10, "produce": 1, "trees": 1, "leaf_type": 1, "leaf_cycle": 10, "genus": 0.6,
    "species": 0.6, "taxon": 0.6, "diameter_crown": 0.6, "wetland": 10, "water": 10,
    "intermittent": 10, "tidal": 10, "salt": 10, "basin": 1, "resource": 10, "residential": 1,
    "industrial": 1, "garden:type": 1, "reservoir_type": 1, "irrigated": 10,
    # power and man-made structures
    "generator:source": 1, "generator:method": 1, "generator:type": 1,
    "generator:output:electricity": 1, "plant:source": 10, "plant:method": 10,
    "plant:output:electricity": 10, "cables": 0.6, "voltage": 1, "circuits": 1, "frequency": 1,
    "location": 1, "substation": 1, "tower:type": 0.6, "tower:construction": 0.6, "structure": 1,
    "material": 0.6, "colour": 0.6, "support": 0.6, "content": 1, "bunker_type": 1,
    "fence_type": 0.6, "wall": 0.6, "shelter": 0.6, "bench": 0.6, "fountain": 0.6, "memorial": 0.6,
    "artwork_type": 0.6, "design": 1, "line_attachment": 1, "line_management": 1, "lock": 1,
    # uses visible through layout
    "sport": 1, "religion": 1, "denomination": 1, "athletics": 1, "golf": 1, "seasonal": 10,
    "landfill": 10, "pitch": 1, "playground": 0.6, "traffic_calming": 0.2,
    "construction": 1, "abandoned": 1, "disused": 1, "ruins": 1, "historic": 1, "castle_type": 1,
}

# Rule 6: never shown (identifiers, contact, opening hours, provenance, people).
DENY = [
    "name", "name:*", "alt_name", "alt_name:*", "old_name", "old_name:*", "official_name",
    "official_name:*", "short_name", "short_name:*", "loc_name", "int_name", "reg_name", "nat_name",
    "not:name", "addr:*", "ref", "ref:*", "source", "source:*", "note", "note:*", "fixme", "FIXME",
    "description", "description:*", "opening_hours", "opening_hours:*", "phone", "fax", "email",
    "website", "url", "contact:*", "wiki*", "image", "operator", "operator:*", "brand", "brand:*",
    "network", "network:*", "admin_level", "created_by", "check_date", "check_date:*",
    "survey:date", "start_date", "end_date", "opening_date", "gnis:*", "tiger:*", "NHD:*", "is_in",
    "is_in:*", "postal_code", "population", "population:*", "ele", "payment:*", "currency:*", "fee",
    "charge", "wheelchair", "diet:*", "toilets:*", "internet_access", "internet_access:*",
    "cuisine", "stars", "smoking", "delivery", "takeaway", "drive_through", "outdoor_seating",
    "reservation", "min_age", "max_age", "healthcare:*", "social_facility:*", "fhrs:*",
    "branch", "inscription", "artist_name", "architect", "mapillary", "import", "attribution",
]
# Rule 6b: keys that only order objects vertically or name a floor. From above a road at
# layer=-1 looks like any road; "a primary road with -1 layer" describes nothing visible.
# (Whether an object is hidden, e.g. in a tunnel, is a separate rule.)
DENY += [
    "layer", "level", "level:*", "min_level", "max_level", "repeat_on", "building:min_level",
    "building:levels:underground",
]


def gsd_class(value):
    value = float(value)
    if value not in GSD_CLASSES:
        raise SystemExit(f"generate_vocabulary: GSD {value} is not one of {GSD_CLASSES}")
    return value


def rule_gsd(key, value, geometry):
    geometry = set(geometry)
    if "area" in geometry:
        table = AREA_GSD.get(key, AREA_GSD["*"])
    elif "line" in geometry:
        table = LINE_GSD.get(key, LINE_GSD["*"])
    else:
        return POINT_GSD.get(key, 0.2)
    return table.get(value, table["*"])


def load_overrides(path):
    """overrides.tsv: `key=value<TAB>feature|attribute<TAB>gsd`, `key=value<TAB>exclude`,
    `key=value<TAB>name<TAB>text` (caption name), `key<TAB>deny`."""
    entries, excluded, names, deny = {}, set(), {}, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) == 3 and fields[1] in ("feature", "attribute"):
                entries[fields[0]] = (fields[1], gsd_class(fields[2]))
            elif len(fields) == 2 and fields[1] == "exclude":
                excluded.add(fields[0])
            elif len(fields) == 3 and fields[1] == "name":
                names[fields[0]] = fields[2]
            elif len(fields) == 2 and fields[1] == "deny":
                deny.append(fields[0])
            else:
                raise SystemExit(f"{path}:{n}: cannot read `{line}`")
    return entries, excluded, names, deny


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    pkg = sys.argv[1]
    presets = json.load(open(os.path.join(pkg, "dist", "presets.json"), encoding="utf-8"))
    fields = json.load(open(os.path.join(pkg, "dist", "fields.json"), encoding="utf-8"))
    en = json.load(open(os.path.join(pkg, "dist", "translations", "en.json"), encoding="utf-8"))["en"]["presets"]
    version = json.load(open(os.path.join(pkg, "package.json"), encoding="utf-8"))["version"]
    overrides, excluded, name_overrides, extra_deny = load_overrides(os.path.join(HERE, "overrides.tsv"))

    features = {}   # "key=value" -> gsd
    names = {}      # "key=value" -> English name
    why = {"invisible family": 0, "point POI": 0, "excluded by override": 0}
    field_keys = set()
    for pid, p in presets.items():
        if pid.startswith("@") or "tags" not in p:
            continue
        for fname in p.get("fields", []) + p.get("moreFields", []):
            if fname in fields and "key" in fields[fname]:
                field_keys.add(fields[fname]["key"])
        key = pid.split("/")[0]
        tags = p["tags"]
        if key not in tags:
            continue
        value = tags[key]
        tag = f"{key}={value}"
        if key in INVISIBLE_KEYS or key not in FEATURE_KEYS:
            why["invisible family"] += 1
            continue
        if tag in excluded:
            why["excluded by override"] += 1
            continue
        geometry = p.get("geometry", [])
        if value == "*":  # family wildcards come from rule 4; keep the generic name ("Building")
            name = en.get("presets", {}).get(pid, {}).get("name")
            if name and len(tags) == 1:
                names.setdefault(tag, name.lower())
            continue
        if key in POINT_POI_KEYS and not ({"area", "line"} & set(geometry)):
            why["point POI"] += 1
            continue
        if key in BUILDING_POI_KEYS and tag not in overrides and any(
                f.startswith("building_area") for f in p.get("fields", []) + p.get("moreFields", [])):
            why["business in a building"] = why.get("business in a building", 0) + 1
            continue
        gsd = rule_gsd(key, value, geometry)
        features[tag] = max(features.get(tag, gsd), gsd)  # several presets: the most visible geometry wins
        name = en.get("presets", {}).get(pid, {}).get("name")
        if name and tag not in names:
            names[tag] = name.lower()
        for qkey, qvalue in tags.items():  # rule 1b
            qtag = f"{qkey}={qvalue}"
            if qkey in SECONDARY_FEATURE_KEYS and qvalue != "*" and qtag not in excluded:
                features[qtag] = max(features.get(qtag, gsd), gsd)
                if name:
                    names.setdefault(qtag, name.lower())

    # Field options of feature families add values the presets lack (building types, ...).
    for fid, fd in fields.items():
        key = fd.get("key")
        if (key not in FEATURE_KEYS and key not in SECONDARY_FEATURE_KEYS) or key in INVISIBLE_KEYS:
            continue
        labels = en.get("fields", {}).get(fid, {}).get("options", {})
        for value in fd.get("options", []):
            tag = f"{key}={value}"
            if tag in features or tag in excluded or not isinstance(value, str):
                continue
            if key in SECONDARY_FEATURE_KEYS:
                features[tag] = SECONDARY_FEATURE_KEYS[key]
            else:
                geometry = ["area"] if key in AREA_GSD else ["line"] if key in LINE_GSD else ["point"]
                features[tag] = rule_gsd(key, value, geometry)
            label = labels.get(value)
            if isinstance(label, str):
                names.setdefault(tag, label.lower())

    # Attribute keys, and names for their values (field options) and for the keys (labels).
    attributes = {}
    for fid, fd in fields.items():
        key = fd.get("key")
        if key in ATTRIBUTES and key in field_keys:
            attributes[key] = ATTRIBUTES[key]
            tr = en.get("fields", {}).get(fid, {})
            if isinstance(tr.get("label"), str):
                names.setdefault(f"{key}=*", tr["label"].lower())
            for value, label in (tr.get("options") or {}).items():
                if isinstance(label, str):
                    names.setdefault(f"{key}={value}", label.lower())

    for tag, (role, gsd) in overrides.items():
        key, value = tag.split("=", 1)
        if role == "feature":
            features[tag] = gsd
        else:
            attributes[key] = gsd
    names.update(name_overrides)

    families = FEATURE_KEYS + sorted(SECONDARY_FEATURE_KEYS)

    def order(tag):
        key, value = tag.split("=", 1)
        return (families.index(key) if key in families else len(families), key, value == "*", value)

    out = [
        f"# Generated by tag_filters/generate_vocabulary.py from @openstreetmap/id-tagging-schema {version}",
        "# (ISC licence, (c) iD contributors) and tag_filters/overrides.tsv. Do not edit: change the",
        "# rules or the overrides and run `make vocabulary`. Format: see tag_filters/README.md.",
        f"# {len(features) + len(WILDCARDS)} feature entries, {len(attributes)} attribute keys, {len(DENY) + len(extra_deny)} deny patterns.",
    ]
    for key, gsd in WILDCARDS.items():
        features.setdefault(f"{key}=*", gsd)
    for tag in sorted(features, key=order):
        out.append(f"{tag}\tfeature\t{gsd_class(features[tag]):g}")
    clash = sorted(k for k in attributes if k in WILDCARDS)
    if clash:
        raise SystemExit(f"generate_vocabulary: keys both wildcard feature and attribute: {clash}")
    # The matcher lets a deny win silently; in the default list a key is one or the other.
    def is_denied(key):
        return any(key == d or (d.endswith("*") and key.startswith(d[:-1])) for d in DENY + extra_deny)
    denied_entries = sorted(t for t in list(features) + [f"{k}=*" for k in attributes] if is_denied(t.split("=", 1)[0]))
    if denied_entries:
        raise SystemExit(f"generate_vocabulary: entries whose key is denied: {denied_entries}")
    for key in sorted(attributes):
        out.append(f"{key}=*\tattribute\t{gsd_class(attributes[key]):g}")
    for key in DENY + extra_deny:
        out.append(f"{key}\tdeny")
    with open(os.path.join(HERE, "default_tags.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")

    with open(os.path.join(HERE, "tag_names.tsv"), "w", encoding="utf-8") as f:
        f.write(f"# English names of tags, from @openstreetmap/id-tagging-schema {version} (ISC licence,\n"
                "# (c) iD contributors) and tag_filters/overrides.tsv; used by the natural caption style.\n")
        for tag in sorted(names):
            name = " ".join(names[tag].replace("\t", " ").split())
            if name:
                f.write(f"{tag}\t{name}\n")
    print(f"generate_vocabulary: {sum(1 for t in features)} features, {len(attributes)} attributes, "
          f"{len(names)} names; left out: {why}", file=sys.stderr)


if __name__ == "__main__":
    main()
