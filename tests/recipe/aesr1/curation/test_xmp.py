"""XMP sidecars, read back by exiftool: ratings, critiques, merging with what a person or a tool wrote."""

import json
import subprocess
from pathlib import Path

import pytest
from curation_photos import require_binary

from recipe.aesr1.curation.xmp import (
    RatingScale,
    sidecar_conflicts,
    sidecar_path,
    write_sidecar,
)


def exiftool(path: Path) -> dict:
    """What a photo tool's reader sees in the sidecar (exiftool's JSON, tag names with their group)."""
    out = subprocess.run([require_binary("exiftool"), "-j", "-G0", "-struct", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def test_the_rating_scale_cuts_scores_into_stars():
    scale = RatingScale()
    assert [scale.stars(s) for s in (0.0, 0.1999, 0.2, 0.45, 0.6, 0.79, 0.8, 1.0)] == [1, 1, 2, 3, 4, 4, 5, 5]
    assert RatingScale.parse("0.25,0.4,0.55,0.7").stars(0.7) == 5
    for bad in ("0.5,0.4,0.6,0.8", "0.2,0.4", "0.2,0.4,0.6,1.5", "a,b,c,d"):
        with pytest.raises(ValueError):
            RatingScale.parse(bad)


def test_a_new_sidecar_is_read_by_exiftool(tmp_path):
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(b"not touched")
    path = write_sidecar(photo, 0.73, "Soft light & a calm <mood>, muted teal.", "good", "/ckpts/aes-r1/")
    assert path == tmp_path / "IMG_0001.xmp" and photo.read_bytes() == b"not touched"
    tags = exiftool(path)
    assert tags["XMP:Rating"] == 4 and tags["XMP:Description"] == "Soft light & a calm <mood>, muted teal."
    assert tags["XMP:Score"] == 0.73 and tags["XMP:Level"] == "good" and tags["XMP:Model"] == "aes-r1"


LIGHTROOM_SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" crs:Exposure2012="+0.35" xmp:Label="Red">
   <xmp:Rating>2</xmp:Rating>
   <dc:subject><rdf:Bag><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Grandma at the lake</rdf:li><rdf:li xml:lang="de">Oma am See</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


def test_an_existing_sidecar_is_merged_and_a_persons_rating_and_caption_are_kept(tmp_path):
    photo = tmp_path / "IMG_0002.jpg"
    sidecar = tmp_path / "IMG_0002.xmp"
    sidecar.write_text(LIGHTROOM_SIDECAR)
    write_sidecar(photo, 0.91, "Strong light.", "good")
    tags = exiftool(sidecar)
    assert tags["XMP:Rating"] == 2 and tags["XMP:Description"] == "Grandma at the lake"  # a person's, kept
    assert tags["XMP:Score"] == 0.91 and tags["XMP:Exposure2012"] == "+0.35" and tags["XMP:Label"] == "Red"
    assert tags["XMP:Subject"] == ["holiday"] and tags["XMP:Description-de"] == "Oma am See"
    write_sidecar(photo, 0.91, "Strong light.", "good", overwrite=True)
    tags = exiftool(sidecar)
    assert tags["XMP:Rating"] == 5 and tags["XMP:Description"] == "Strong light." and tags["XMP:Description-de"] == "Oma am See"


def test_our_own_rating_is_updated_until_a_person_changes_it(tmp_path):
    photo = tmp_path / "a.jpg"
    sidecar = write_sidecar(photo, 0.3, "First.", "bad")
    write_sidecar(photo, 0.85, "Second.", "good")
    assert exiftool(sidecar)["XMP:Rating"] == 5 and exiftool(sidecar)["XMP:Description"] == "Second."
    sidecar.write_text(sidecar.read_text().replace('xmp:Rating="5"', 'xmp:Rating="1"'))  # a person's verdict
    write_sidecar(photo, 0.5, "Third.", "fair")
    tags = exiftool(sidecar)
    assert tags["XMP:Rating"] == 1 and tags["XMP:Score"] == 0.5 and tags["XMP:Description"] == "Third."


def test_a_photo_without_a_score_gets_no_rating(tmp_path):
    sidecar = write_sidecar(tmp_path / "b.jpg", None, "", "")
    assert "XMP:Rating" not in exiftool(sidecar)


@pytest.mark.parametrize("content", ["<x:xmpmeta", "<html><body>hi</body></html>", "\x00\x01binary"])
def test_a_sidecar_that_is_not_xmp_is_left_untouched(tmp_path, content):
    sidecar = tmp_path / "c.xmp"
    sidecar.write_text(content)
    with pytest.raises(ValueError, match="left untouched|not well-formed"):
        write_sidecar(tmp_path / "c.jpg", 0.5, "x", "fair")
    assert sidecar.read_text() == content


def test_namings_and_photos_that_would_share_a_sidecar(tmp_path):
    assert sidecar_path(Path("d/IMG_1.jpg")) == Path("d/IMG_1.xmp")
    assert sidecar_path(Path("d/IMG_1.jpg"), "darktable") == Path("d/IMG_1.jpg.xmp")
    photos = [Path("d/IMG_1.jpg"), Path("d/IMG_1.png"), Path("d/IMG_2.jpg")]
    assert sidecar_conflicts(photos) == {Path("d/IMG_1.xmp"): photos[:2]}
    assert sidecar_conflicts(photos, "darktable") == {}
