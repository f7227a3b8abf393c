"""XMP sidecars: the judge's star rating and critique where photo tools look for them.

A sidecar sits beside the photo and is read by Lightroom, Bridge, Capture One, darktable, digiKam and
exiftool; the photo itself is never opened for writing. Naming: ``adobe`` writes ``IMG_1.xmp`` (the
convention of Adobe's tools, Capture One and digiKam's default), ``darktable`` writes ``IMG_1.jpg.xmp``.

What is written (everything else in an existing sidecar is kept as it was):

* ``xmp:Rating`` 1-5 from the score (``RatingScale``); a photo without a score gets no rating;
* ``dc:description`` (x-default) = the critique;
* ``aesr1:Score``, ``aesr1:Level``, ``aesr1:Rating`` (the rating as written), ``aesr1:Model``, in the
  namespace ``urn:aesr1:xmp:1.0``.

A rating or description a person set is kept: an existing ``xmp:Rating`` that differs from the
``aesr1:Rating`` we wrote last time (or one in a sidecar we never wrote) was set by someone else, and an
existing description in a sidecar we never wrote is theirs. ``overwrite=True`` replaces both.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from data_prep.atomic_files import write_text_atomic

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "aesr1": "urn:aesr1:xmp:1.0",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NAMINGS = ("adobe", "darktable")
MAX_SIDECAR_BYTES = 4 << 20  # an XMP packet is kilobytes; anything far larger is not one we merge


def q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


@dataclass(frozen=True)
class RatingScale:
    """Stars from a score in [0, 1]: 1 + the number of ``thresholds`` at or below the score.

    The default cuts [0, 1] in fifths. Aes-R1's levels (Appendix E.2: bad < 0.4 <= fair < 0.7 <= good)
    are coarser; ``RatingScale((0.25, 0.4, 0.55, 0.7))`` puts every "good" photo at 5 stars.

    >>> [RatingScale().stars(s) for s in (0.0, 0.2, 0.59, 0.8, 1.0)]
    [1, 2, 3, 5, 5]
    """

    thresholds: tuple[float, float, float, float] = (0.2, 0.4, 0.6, 0.8)

    def __post_init__(self) -> None:
        t = tuple(self.thresholds)
        if len(t) != 4 or any(not 0.0 <= x <= 1.0 for x in t) or list(t) != sorted(set(t)):
            raise ValueError(f"rating thresholds must be 4 increasing numbers in [0, 1], got {self.thresholds}")

    @classmethod
    def parse(cls, text: str) -> RatingScale:
        """From ``"0.2,0.4,0.6,0.8"`` (the command-line form)."""
        try:
            return cls(tuple(float(x) for x in text.split(",")))
        except ValueError as error:
            raise ValueError(f"--xmp-thresholds: {error}") from None

    def stars(self, score: float) -> int:
        return 1 + bisect_right(self.thresholds, score)


def sidecar_path(photo: Path, naming: str = "adobe") -> Path:
    if naming not in NAMINGS:
        raise ValueError(f"sidecar naming must be one of {NAMINGS}, got {naming!r}")
    return photo.with_suffix(".xmp") if naming == "adobe" else photo.with_name(photo.name + ".xmp")


def sidecar_conflicts(photos: Sequence[Path], naming: str = "adobe") -> dict[Path, list[Path]]:
    """Sidecars that two photos would share (``IMG_1.jpg`` and ``IMG_1.png`` under adobe naming)."""
    owners: dict[Path, list[Path]] = {}
    for photo in photos:
        owners.setdefault(sidecar_path(photo, naming), []).append(photo)
    return {sidecar: names for sidecar, names in owners.items() if len(names) > 1}


def _empty_packet() -> ET.Element:
    meta = ET.Element(q("x", "xmpmeta"))
    rdf = ET.SubElement(meta, q("rdf", "RDF"))
    ET.SubElement(rdf, q("rdf", "Description"), {q("rdf", "about"): ""})
    return meta


def _read_packet(path: Path) -> ET.Element:
    """The x:xmpmeta element of an existing sidecar (ValueError when it is not one we can merge)."""
    if path.stat().st_size > MAX_SIDECAR_BYTES:
        raise ValueError(f"{path}: {path.stat().st_size} bytes, larger than any XMP sidecar ({MAX_SIDECAR_BYTES})")
    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError as error:
        raise ValueError(f"{path}: not well-formed XML ({error}); left untouched") from None
    meta = root if root.tag == q("x", "xmpmeta") else root.find("x:xmpmeta", NS)
    if meta is None and root.tag == q("rdf", "RDF"):  # a bare rdf:RDF packet: wrap it
        meta = ET.Element(q("x", "xmpmeta"))
        meta.append(root)
    if meta is None or meta.find("rdf:RDF", NS) is None:
        raise ValueError(f"{path}: no x:xmpmeta/rdf:RDF packet; left untouched")
    if meta.find("rdf:RDF/rdf:Description", NS) is None:
        ET.SubElement(meta.find("rdf:RDF", NS), q("rdf", "Description"), {q("rdf", "about"): ""})
    return meta


def _property(descriptions: list[ET.Element], name: str) -> str | None:
    """A simple property, written as an attribute or as a child element of any rdf:Description."""
    for description in descriptions:
        if name in description.attrib:
            return description.attrib[name]
        child = description.find(name)
        if child is not None and child.text is not None:
            return child.text.strip()
    return None


def _set_property(descriptions: list[ET.Element], name: str, value: str) -> None:
    for description in descriptions:  # one form, in the first description
        description.attrib.pop(name, None)
        for child in description.findall(name):
            description.remove(child)
    descriptions[0].set(name, value)


def _set_description(descriptions: list[ET.Element], text: str) -> None:
    """dc:description's x-default entry; entries in other languages are kept."""
    for description in descriptions:
        node = description.find("dc:description", NS)
        if node is not None:
            alt = node.find("rdf:Alt", NS)
            if alt is None:
                node.clear()
                alt = ET.SubElement(node, q("rdf", "Alt"))
            default = next((li for li in alt.findall("rdf:li", NS) if li.get(XML_LANG) == "x-default"), None)
            if default is None:
                default = ET.Element(q("rdf", "li"), {XML_LANG: "x-default"})
                alt.insert(0, default)
            default.text = text
            return
    alt = ET.SubElement(ET.SubElement(descriptions[0], q("dc", "description")), q("rdf", "Alt"))
    ET.SubElement(alt, q("rdf", "li"), {XML_LANG: "x-default"}).text = text


def _has_description(descriptions: list[ET.Element]) -> bool:
    return any(
        (li.text or "").strip()
        for description in descriptions
        for li in description.findall("dc:description/rdf:Alt/rdf:li", NS)
    )


def write_sidecar(
    photo: Path,
    score: float | None,
    critique: str,
    level: str = "",
    model: str = "",
    scale: RatingScale = RatingScale(),
    naming: str = "adobe",
    overwrite: bool = False,
) -> Path:
    """Write (or merge into) the photo's sidecar, atomically; returns its path.

    ValueError for an existing sidecar that is not XMP we can merge (left untouched).
    """
    path = sidecar_path(photo, naming)
    meta = _read_packet(path) if path.exists() else _empty_packet()
    descriptions = meta.findall("rdf:RDF/rdf:Description", NS)
    ours_before = _property(descriptions, q("aesr1", "Score")) is not None
    if score is not None:
        stars = scale.stars(score)
        current, last_written = _property(descriptions, q("xmp", "Rating")), _property(descriptions, q("aesr1", "Rating"))
        if overwrite or current is None or current == last_written:
            _set_property(descriptions, q("xmp", "Rating"), str(stars))
        _set_property(descriptions, q("aesr1", "Rating"), str(stars))
        _set_property(descriptions, q("aesr1", "Score"), f"{score:.4f}")
        _set_property(descriptions, q("aesr1", "Level"), level)
    if critique and (overwrite or ours_before or not _has_description(descriptions)):
        _set_description(descriptions, critique)
    if model:
        _set_property(descriptions, q("aesr1", "Model"), os.path.basename(model.rstrip("/")) or model)
    ET.indent(meta, space=" ")
    body = ET.tostring(meta, encoding="unicode")
    write_text_atomic(path, f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n<?xpacket end="w"?>\n')
    return path
