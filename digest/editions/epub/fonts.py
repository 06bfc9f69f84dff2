"""CJK fonts for the EPUB edition: finding one (fontconfig) and subsetting it (fontTools).

The subset holds exactly the characters an issue uses, so a reader without Chinese fonts renders
the text and the book stays small.
"""
from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from digest.errors import MissingDependency

# Preferred families, best first; any font fontconfig says covers Chinese comes after these.
FAMILIES = {
    "serif": ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Serif SC", "Source Han Serif CN"),
    "sans": ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "Source Han Sans CN"),
}
_PROBE = "中文字体"


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int = 0  # the face inside a collection (.ttc)
    family: str = ""


@lru_cache(maxsize=1)
def _zh_faces() -> tuple[tuple[str, int, tuple[str, ...], str], ...]:
    """Every face fontconfig says covers Chinese: (file, index, families, style); one ``fc-list`` run."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return ()
    try:
        out = subprocess.run([fc_list, ":lang=zh-cn", "-f", r"%{file}\t%{index}\t%{family}\t%{style}\n"],
                             capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    faces = []
    for line in sorted(out.splitlines()):
        fields = line.split("\t")
        if len(fields) != 4 or not fields[1].isdigit():
            continue
        faces.append((fields[0], int(fields[1]), tuple(f.strip() for f in fields[2].split(",")), fields[3]))
    return tuple(faces)


@lru_cache(maxsize=16)
def find_cjk_font(kind: str = "sans", bold: bool = False, configured: str | None = None) -> FontFile:
    """A font that covers Chinese; ``configured`` (a file path) wins. Raises :class:`MissingDependency`."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise MissingDependency("configured CJK font not found", path)
        return FontFile(path, 0, path.stem)
    faces = _zh_faces()
    want_style = "Bold" if bold else "Regular"
    preferred = FAMILIES.get(kind, ()) + FAMILIES["sans"] + FAMILIES["serif"]
    for fam in preferred:
        for file, index, families, style in faces:
            if fam in families and want_style in style.split(","):
                return FontFile(Path(file), index, fam)
    for file, index, families, _style in faces:
        if Path(file).suffix.lower() in (".otf", ".ttf", ".ttc", ".otc"):
            return FontFile(Path(file), index, families[0])
    raise MissingDependency("no CJK font found: install fonts-noto-cjk (or set epub.font to a font file)")


def subset(font: FontFile, text: str) -> tuple[bytes, str]:
    """The glyphs of ``text`` from ``font`` as a standalone OpenType font; (data, file extension)."""
    from fontTools import subset as ftsubset
    from fontTools.ttLib import TTFont

    chars = {ord(c) for c in text if ord(c) >= 0x20}
    chars.update(range(0x20, 0x7F))
    options = ftsubset.Options()
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright and licence records
    options.hinting = True  # removing hints costs seconds on a CJK CFF font and saves little
    options.desubroutinize = False
    options.notdef_outline = True
    options.recalc_timestamp = False
    try:
        tt = TTFont(str(font.path), fontNumber=font.index, lazy=True, recalcTimestamp=False,
                    recalcBBoxes=False)
    except Exception as e:  # fontTools raises many types for a bad file
        raise MissingDependency(f"cannot read font: {e}", font.path) from None
    sub = ftsubset.Subsetter(options)
    sub.populate(unicodes=sorted(chars))
    sub.subset(tt)
    out = io.BytesIO()
    tt.save(out)
    ext = "otf" if "CFF " in tt or "CFF2" in tt else "ttf"
    return out.getvalue(), ext
