"""Variable-size packages (TAIGA-HiSCORE), vectorised over packages.

The ``.ksy`` describes a package as a fixed head, a repeated block whose last field is
an array counted by a field of the block (``repeat-expr: sample_count``), and a fixed
tail. :class:`BlockedLayout` derives from it a padded numpy structured dtype
(head fields, ``blocks`` heads (n_blocks,), ``samples`` (n_blocks, max count), tail
fields) that holds every byte of a package, so that unpacking and packing are exact
inverses, and walks a file without a Python object per sample: package starts are
found by hopping over the size field (one step per package, or none when all
packages have the same size), blocks by n_blocks vectorised steps over all packages.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dlclab.formats.taiga.layout import KsyError, KsyLayout, evaluate, load


@dataclass
class BlockedLayout:
    """Head / blocks / tail view of a variable-size package type."""

    layout: KsyLayout
    head: np.dtype  # fixed fields before the blocks
    blocks_field: str  # e.g. "blocks"
    n_blocks: int
    block_head: np.dtype  # fixed fields of a block before its samples
    count_field: str  # e.g. "sample_count"
    samples_field: str  # e.g. "samples"
    sample: np.dtype
    tail: np.dtype  # fixed fields after the blocks
    tail_constants: dict[str, bytes]
    size_field: str  # the head field giving the bytes after the head
    magic_field: str
    magic: bytes

    @classmethod
    def from_ksy(cls, layout: KsyLayout) -> BlockedLayout:
        package = layout.record
        seq = package.fields
        idx = next(i for i, a in enumerate(seq) if a["id"] not in (package.prefix.names or ()))
        blocks_attr = seq[idx]
        block = layout.type(blocks_attr["type"])
        n_blocks = evaluate(blocks_attr["repeat-expr"], {})
        samples_attr = next(a for a in block.fields if a["id"] not in (block.prefix.names or ()))
        count_node = ast.parse(str(samples_attr["repeat-expr"]), mode="eval").body
        if not isinstance(count_node, ast.Name):
            raise KsyError(f"{layout.source}: block samples must be counted by one field")
        tail_names, tail_formats, tail_constants = [], [], {}
        for attr in seq[idx + 1:]:
            if "contents" not in attr:
                raise KsyError(f"{layout.source}: only contents may follow the blocks")
            tail_constants[attr["id"]] = bytes(attr["contents"])
            tail_names.append(attr["id"])
            tail_formats.append(("u1", (len(attr["contents"]),)))
        magic_field = seq[0]["id"]
        size_field = next(a["id"] for a in seq if "size" in a["id"])
        return cls(layout, package.prefix, blocks_attr["id"], n_blocks, block.prefix,
                   count_node.id, samples_attr["id"], layout._primitive(samples_attr["type"], {}),
                   np.dtype({"names": tail_names, "formats": tail_formats}), tail_constants,
                   size_field, magic_field, bytes(seq[0]["contents"]))

    def dtype(self, max_count: int) -> np.dtype:
        """The padded structured dtype holding packages with up to ``max_count`` samples a block."""
        names = list(self.head.names) + [self.blocks_field, self.samples_field] + list(self.tail.names)
        formats = ([self.head.fields[n][0] for n in self.head.names]
                   + [(self.block_head, (self.n_blocks,)), (self.sample, (self.n_blocks, max_count))]
                   + [self.tail.fields[n][0] for n in self.tail.names])
        return np.dtype({"names": names, "formats": formats})

    def package_bytes(self, counts: np.ndarray) -> np.ndarray:
        """Total bytes of each package from its block counts (n, n_blocks)."""
        return (self.head.itemsize + self.n_blocks * self.block_head.itemsize
                + self.sample.itemsize * counts.sum(axis=1, dtype=np.int64) + self.tail.itemsize)

    # -- packing -------------------------------------------------------------------------
    def pack(self, packages: np.ndarray) -> np.ndarray:
        """Padded structured packages -> the file's bytes (uint8), vectorised."""
        n = len(packages)
        counts = packages[self.blocks_field][self.count_field].astype(np.int64)
        if n and counts.max(initial=0) > packages.dtype[self.samples_field].shape[-1]:
            raise ValueError("a block count exceeds the samples it carries")
        sizes = self.package_bytes(counts)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        out = np.zeros(int(sizes.sum()), dtype=np.uint8)
        head = _struct_bytes(packages, self.head).reshape(n, self.head.itemsize)
        out[starts[:, None] + np.arange(self.head.itemsize)] = head
        pos = starts + self.head.itemsize
        bh = self.block_head.itemsize
        block_heads = np.ascontiguousarray(packages[self.blocks_field]).view(np.uint8).reshape(n, self.n_blocks, bh)
        samples = packages[self.samples_field]
        width = samples.shape[-1]
        sample_bytes = np.ascontiguousarray(samples).view(np.uint8).reshape(n, self.n_blocks, width * self.sample.itemsize)
        for b in range(self.n_blocks):
            out[pos[:, None] + np.arange(bh)] = block_heads[:, b]
            pos = pos + bh
            nbytes = counts[:, b] * self.sample.itemsize
            cols = np.arange(width * self.sample.itemsize)
            mask = cols[None, :] < nbytes[:, None]
            out[(pos[:, None] + cols)[mask]] = sample_bytes[:, b][mask]
            pos = pos + nbytes
        tail = _struct_bytes(packages, self.tail).reshape(n, self.tail.itemsize)
        out[pos[:, None] + np.arange(self.tail.itemsize)] = tail
        return out

    # -- scanning ------------------------------------------------------------------------
    def scan(self, data: np.ndarray, start: int = 0, max_packages: int | None = None,
             ) -> tuple[np.ndarray, int, str | None]:
        """Package start offsets in ``data`` (uint8) from ``start``.

        Returns (starts, end of the last whole package, problem or None). Stops at the
        first byte that is not a package start or a package that runs past the end."""
        size_off = self.head.fields[self.size_field][1]
        size_dtype = self.head.fields[self.size_field][0]
        head = self.head.itemsize
        total = len(data)
        magic = np.frombuffer(self.magic, np.uint8)
        limit = max_packages if max_packages is not None else total
        # Fast path: the packages have the size of the first one (checked vectorised);
        # the general hop below starts where that stops holding.
        prior = np.zeros(0, dtype=np.int64)
        pos = start
        if total - start >= head and bytes(data[start:start + len(magic)]) == self.magic:
            size0 = head + int(data[start + size_off:start + size_off + size_dtype.itemsize].view(size_dtype)[0])
            n = min((total - start) // size0, limit)
            if n:
                starts = start + size0 * np.arange(n, dtype=np.int64)
                ok_magic = np.all(data[starts[:, None] + np.arange(len(magic))] == magic, axis=1)
                sz = data[starts[:, None] + size_off + np.arange(size_dtype.itemsize)].copy().view(size_dtype)[:, 0]
                ok = ok_magic & (head + sz.astype(np.int64) == size0)
                good = n if ok.all() else int(np.argmin(ok))
                prior, pos = starts[:good], int(start + good * size0)
                if good == limit or pos == total:
                    return prior, pos, None
        # General path: hop from package to package (one step per package).
        starts_list: list[int] = []
        problem = None
        while pos < total and len(prior) + len(starts_list) < limit:
            if total - pos < head:
                problem = "truncated" if bytes(data[pos:pos + len(magic)]) == self.magic[:total - pos] else "garbage"
                break
            if bytes(data[pos:pos + len(magic)]) != self.magic:
                problem = "magic"
                break
            size = head + int(data[pos + size_off:pos + size_off + size_dtype.itemsize].view(size_dtype)[0])
            if pos + size > total:
                problem = "truncated"
                break
            starts_list.append(pos)
            pos += size
        return np.concatenate([prior, np.asarray(starts_list, dtype=np.int64)]), pos, problem

    def _interleaved(self, counts: list[int]) -> np.dtype:
        """The file's own layout of a package whose blocks have ``counts`` samples."""
        names = list(self.head.names)
        formats = [self.head.fields[n][0] for n in self.head.names]
        for b, count in enumerate(counts):
            names += [f"_head{b}", f"_samples{b}"]
            formats += [self.block_head, (self.sample, (count,))]
        names += list(self.tail.names)
        formats += [self.tail.fields[n][0] for n in self.tail.names]
        return np.dtype({"names": names, "formats": formats})

    def _unpack_uniform(self, data: np.ndarray, starts: np.ndarray):
        """Fast path: equally spaced packages whose blocks all have the first one's
        counts are one structured view of the bytes (no gather). None otherwise."""
        n = len(starts)
        if n == 0 or (n > 1 and np.any(np.diff(starts) != starts[1] - starts[0])):
            return None
        pos, counts = int(starts[0]) + self.head.itemsize, []
        for _ in range(self.n_blocks):
            if pos + self.block_head.itemsize > len(data):
                return None
            head = data[pos:pos + self.block_head.itemsize].view(self.block_head)[0]
            counts.append(int(head[self.count_field]))
            pos += self.block_head.itemsize + counts[-1] * self.sample.itemsize
        dtype = self._interleaved(counts)
        first = int(starts[0])
        if (n > 1 and dtype.itemsize != starts[1] - starts[0]) or first + n * dtype.itemsize > len(data):
            return None
        view = data[first:first + n * dtype.itemsize].view(dtype)
        heads = np.stack([view[f"_head{b}"] for b in range(self.n_blocks)], axis=1)
        if np.any(heads[self.count_field] != np.asarray(counts, dtype=heads[self.count_field].dtype)):
            return None
        width = max(counts)
        packages = np.zeros(n, self.dtype(width))
        for name in self.head.names + self.tail.names:
            packages[name] = view[name]
        packages[self.blocks_field] = heads
        for b, count in enumerate(counts):
            packages[self.samples_field][:, b, :count] = view[f"_samples{b}"]
        tail_pos = starts + dtype.itemsize - self.tail.itemsize
        return packages, tail_pos

    def unpack(self, data: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Packages at ``starts`` -> (padded structured packages, tail offsets).

        The tail offsets let the caller check that the blocks end where the size field
        says (they must equal start + head + size - tail)."""
        fast = self._unpack_uniform(data, starts)
        if fast is not None:
            return fast
        n = len(starts)
        head_cols = starts[:, None] + np.arange(self.head.itemsize)
        heads = data[head_cols].copy().view(self.head)[:, 0] if n else np.zeros(0, self.head)
        bh = self.block_head.itemsize
        pos = starts + self.head.itemsize
        block_heads = np.zeros((n, self.n_blocks), self.block_head)
        sample_pos = np.zeros((n, self.n_blocks), dtype=np.int64)
        for b in range(self.n_blocks):
            cols = pos[:, None] + np.arange(bh)
            cols = np.minimum(cols, len(data) - 1)
            block_heads[:, b] = data[cols].copy().view(self.block_head)[:, 0]
            pos = pos + bh
            sample_pos[:, b] = pos
            pos = pos + block_heads[:, b][self.count_field].astype(np.int64) * self.sample.itemsize
        counts = block_heads[self.count_field].astype(np.int64)
        width = int(counts.max(initial=0))
        packages = np.zeros(n, self.dtype(width))
        for name in self.head.names:
            packages[name] = heads[name]
        packages[self.blocks_field] = block_heads
        item = self.sample.itemsize
        cols = np.arange(width * item)
        for b in range(self.n_blocks):
            mask = cols[None, :] < (counts[:, b] * item)[:, None]
            idx = np.minimum(sample_pos[:, b, None] + cols, len(data) - 1)
            raw = np.where(mask, data[idx], 0).astype(np.uint8)
            packages[self.samples_field][:, b] = raw.view(self.sample).reshape(n, width)
        tail_cols = np.minimum(pos[:, None] + np.arange(self.tail.itemsize), len(data) - 1)
        tail = data[tail_cols].copy()
        off = 0
        for name in self.tail.names:
            size = self.tail.fields[name][0].itemsize
            packages[name] = tail[:, off:off + size]
            off += size
        return packages, pos


def _struct_bytes(packages: np.ndarray, part: np.dtype) -> np.ndarray:
    """The bytes of the fields of ``part`` (a subset of packages' fields), in order."""
    out = np.zeros(len(packages), part)
    for name in part.names:
        out[name] = packages[name]
    return out.view(np.uint8)


@lru_cache(maxsize=None)
def blocked_layout(format_name: str) -> BlockedLayout:
    """The head/blocks/tail view of a variable-size format's ``.ksy`` (cached)."""
    return BlockedLayout.from_ksy(load(format_name))
