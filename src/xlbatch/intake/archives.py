"""Packages: a .zip a unit sends, opened in memory and accounted for member by member (SPEC section 3).

Nothing is ever extracted to disk. discover.py hands the archive's bytes (read
once, under the size limit, the bytes it hashes) to `open_package`, which lists
and hashes every member with the zip inspection of safety.py:

- the sizes and ratios the directory declares are checked before a byte is
  inflated, for the package and, when it is opened, for an archive inside it
  (one level deep; deeper ones are listed, not opened); everything inflated in
  one package counts against max_uncompressed_mb;
- members are then inflated chunk by chunk (safety.inflate: zipfile stops at the
  declared size and fails the CRC if more was there) to hash them;
- a member named with a ".." part or an absolute path, a symbolic link, or two
  members of one name refuse the whole package (FILE_UNSAFE), as does a package
  over the limits anywhere inside; an encrypted or corrupt member refuses only
  that member (FILE_UNREADABLE) and the rest is read.

A member's name is decoded as its writer meant it: with the UTF-8 flag (bit
11) zipfile has decoded it; without, zipfile decoded it as cp437, so it is
turned back into its bytes and decoded as the Info-ZIP Unicode Path field says
(when that field is present and its CRC matches the name), else as UTF-8 when
the bytes are valid UTF-8, else as GB18030 (a superset of GBK, which Chinese
Windows writes). UTF-8 first because its multi-byte sequences are strict: a GBK
name almost never happens to be valid UTF-8, while every UTF-8 name is also
"valid" GB18030 (and would come out garbled).

The workers read a member's bytes again from the archive on disk
(`member_bytes`), so parsing never happens in the run's own process; a worker
keeps the last archive it read, opened, while its bytes hash as discover recorded,
so a package of 100 forms is read from disk once per worker, not 100 times.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from ..config import LimitSettings
from .read import read_file
from .read_rules import FILE_UNREADABLE, FILE_UNSAFE
from .safety import MB, ReadError, check_declared, check_package_names, inflate

ARCHIVE_SUFFIXES = {".zip"}
NESTING = 1  # archives inside a package that are opened: one level
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field: version, CRC-32 of the header name, UTF-8 name


@dataclass
class Member:
    """One file inside a package, hashed; what discover turns into an inbox entry `ARCHIVE.zip/NAME`."""

    name: str  # decoded, "/"-separated, relative to its archive
    raw: str  # zipfile's name for it (ZipInfo.filename): how the archive finds it again
    size: int  # uncompressed
    mtime: float  # the zip entry's date_time, read as local time (as unzip and Explorer show it)
    sha256: str = ""  # of its bytes; of its bytes as stored (encrypted, compressed) when they cannot be inflated
    refusal: ReadError | None = None  # this member cannot be read (encrypted, corrupt); the rest can
    members: list[Member] | None = None  # an archive inside the package, opened: what it holds
    too_deep: bool = False  # an archive nested deeper than NESTING: listed, not opened


@dataclass
class _Budget:
    """Everything inflated in one package, nested archives included, against max_uncompressed_mb."""

    limits: LimitSettings
    spent: int = 0

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limits.max_uncompressed_mb * MB:
            raise ReadError(FILE_UNSAFE, "total_size", limit_mb=self.limits.max_uncompressed_mb,
                            size_mb=self.spent / MB)


def is_archive(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in ARCHIVE_SUFFIXES


def open_package(data: bytes, limits: LimitSettings, fallback_mtime: float = 0.0) -> list[Member]:
    """Every member of the zip `data` (directories left out), hashed; ReadError when the package as a
    whole is refused. `fallback_mtime`: for a member whose date is not a real date."""
    return _members(data, limits, _Budget(limits), "", 0, fallback_mtime)


def _members(data: bytes, limits: LimitSettings, budget: _Budget, prefix: str, depth: int,
             fallback: float) -> list[Member]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            names = {i.filename: decoded_name(i) for i in infos}
            shown = {raw: prefix + name for raw, name in names.items()}  # in refusals: inner.zip/x
            check_package_names(infos, shown)
            check_declared(infos, limits, shown)
            budget.spend(sum(i.file_size for i in infos))
            members = [_member(archive, info, names[info.filename], limits, budget, prefix, depth, fallback)
                       for info in infos]
    except zipfile.BadZipFile as exc:
        raise ReadError(FILE_UNREADABLE, "bad_zip") from exc
    except (EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, ValueError,
            struct.error) as exc:  # ValueError: a name flagged UTF-8 that is not
        raise ReadError(FILE_UNREADABLE, "unzip", why=_why(exc)) from exc
    for info, member in zip(infos, members, strict=True):
        if member.refusal and not member.sha256:  # not inflated: its bytes as stored identify it
            member.sha256 = _stored_sha256(data, info)
    return members


def _stored_sha256(data: bytes, info: zipfile.ZipInfo) -> str:
    """sha256 of a member's bytes as stored in the archive (compressed, encrypted): what identifies a
    member that cannot be inflated. The local header (30 bytes, then name and extra field) precedes them."""
    try:
        name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    except struct.error:
        return ""
    start = info.header_offset + 30 + name_len + extra_len
    return hashlib.sha256(data[start:start + info.compress_size]).hexdigest()


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: LimitSettings, budget: _Budget,
            prefix: str, depth: int, fallback: float) -> Member:
    member = Member(name, info.filename, info.file_size, _mtime(info, fallback))
    if info.flag_bits & _ENCRYPTED_FLAG:
        member.refusal = ReadError(FILE_UNREADABLE, "member_encrypted")
        return member
    nested = is_archive(name)
    try:
        digest, kept = hashlib.sha256(), []
        for chunk in inflate(archive, info, limits, prefix + name):
            digest.update(chunk)
            if nested:
                kept.append(chunk)
    except ReadError:
        raise  # inflating beyond the member limit: the package is unsafe
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError,
            struct.error) as exc:
        member.refusal = ReadError(FILE_UNREADABLE, "member_unzip", why=_why(exc))
        return member
    member.sha256 = digest.hexdigest()
    if nested and depth >= NESTING:
        member.too_deep = True
    elif nested:
        member.members, member.refusal = _nested(b"".join(kept), limits, budget, prefix + name + "/", depth + 1,
                                                 member.mtime)
    return member


def _nested(data: bytes, limits: LimitSettings, budget: _Budget, prefix: str, depth: int,
            fallback: float) -> tuple[list[Member] | None, ReadError | None]:
    """An archive inside the package: its members, or why it cannot be read. Anything unsafe inside it
    refuses the whole package (raised on); a corrupt inner archive is that member's refusal only."""
    try:
        return _members(data, limits, budget, prefix, depth, fallback), None
    except ReadError as exc:
        if exc.code == FILE_UNSAFE.code:
            raise
        return None, exc


def decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it (see the module's docstring), "/"-separated."""
    if info.flag_bits & _UTF8_FLAG:
        name = info.filename
    else:
        raw = info.orig_filename.encode("cp437")  # zipfile decoded the name's bytes as cp437
        name = _unicode_path(info.extra, raw) or _decode(raw)
    return name.replace("\\", "/")  # some Windows tools write backslashes


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The UTF-8 name 7-Zip and WinRAR put beside a name in the local code page, if it is for this name."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        if kind == _UNICODE_PATH and len(body) > 5 and body[0] == 1:
            (crc,) = struct.unpack_from("<I", body, 1)
            if crc == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        at += 4 + size
    return None


def _mtime(info: zipfile.ZipInfo, fallback: float) -> float:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):  # month 0 and the like: some tools write no date
        return fallback


def _why(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]


# --- in the worker: a member's bytes again ------------------------------------------------

@dataclass
class _Kept:
    path: str = ""
    sha256: str = ""
    archive: zipfile.ZipFile | None = field(default=None, repr=False)


# Per process: the last archive read whose bytes hash as discover recorded, opened (its directory
# parsed once: a package of 1,000 members would otherwise cost 1,000 parses of 1,000 entries).
_kept = _Kept()


def member_bytes(path: str | Path, chain: tuple[str, ...], archive_sha256: str, limits: LimitSettings,
                 data: bytes | None = None) -> bytes:
    """The bytes of the member `chain` (zipfile's names, outer archive first) of the archive at `path`
    (or of `data`, its bytes already read), inflated under the limits as open_package inflated them."""
    try:
        if data is None:
            data = _inflated(_archive(str(path), archive_sha256, limits), chain[0], limits)
            chain = chain[1:]
        for name in chain:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = _inflated(archive, name, limits)
        return data
    except zipfile.BadZipFile as exc:
        raise ReadError(FILE_UNREADABLE, "bad_zip") from exc


def _archive(path: str, sha256: str, limits: LimitSettings) -> zipfile.ZipFile:
    if sha256 and (_kept.path, _kept.sha256) == (path, sha256) and _kept.archive is not None:
        return _kept.archive
    data = read_file(Path(path), limits)
    archive = zipfile.ZipFile(io.BytesIO(data))
    if sha256 and hashlib.sha256(data).hexdigest() == sha256:
        if _kept.archive is not None:
            _kept.archive.close()
        _kept.path, _kept.sha256, _kept.archive = path, sha256, archive
    return archive


def _inflated(archive: zipfile.ZipFile, name: str, limits: LimitSettings) -> bytes:
    try:
        info = archive.getinfo(name)
        shown = decoded_name(info)
        check_declared([info], limits, {info.filename: shown})
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise ReadError(FILE_UNREADABLE, "member_encrypted")
        return b"".join(inflate(archive, info, limits, shown))
    except KeyError as exc:  # the archive changed since it was listed: the member is gone
        raise ReadError(FILE_UNREADABLE, "member_unzip", why=f"压缩包内已没有 {name}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            ValueError, struct.error) as exc:
        raise ReadError(FILE_UNREADABLE, "member_unzip", why=_why(exc)) from exc
