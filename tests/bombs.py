#!/usr/bin/env python3
"""bombs.py - writes small files that declare huge images (decompression
bombs), and a large valid PNG, for tests/image_files_test.sh.

Usage: bombs.py DIR
"""
import struct
import sys
import zlib

SIDE = 60000  # 3.6 billion pixels declared; 14.4 GB as RGBA


def png(path, width, height, rows, colour_type=0):
    """A PNG whose IDAT holds `rows` (an iterable of raw scanlines)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    z = zlib.compressobj(1)
    idat = b"".join(z.compress(b"\0" + r) for r in rows) + z.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                           colour_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", idat))
        f.write(chunk(b"IEND", b""))


def main(out):
    # PNG: a few real rows of a 60000 x 60000 grey image.
    png(f"{out}/bomb.png", SIDE, SIDE, [bytes(SIDE)] * 4)
    # GIF: logical screen and image descriptor of 60000 x 60000.
    with open(f"{out}/bomb.gif", "wb") as f:
        f.write(b"GIF89a" + struct.pack("<HHBBB", SIDE, SIDE, 0x80, 0, 0))
        f.write(b"\0\0\0\xff\xff\xff")
        f.write(b"," + struct.pack("<HHHHB", 0, 0, SIDE, SIDE, 0))
        f.write(b"\x02\x02\x44\x01\x00;")
    # TGA (no magic number, no header probe): uncompressed 32-bit.
    with open(f"{out}/bomb.tga", "wb") as f:
        f.write(struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0,
                            SIDE, SIDE, 32, 8) + bytes(64))
    # XPM: a text header is all it takes.
    with open(f"{out}/bomb.xpm", "w") as f:
        f.write('/* XPM */\nstatic char *b[] = {\n"%d %d 1 1",\n'
                '"a c #ff0000",\n"aaaa"};\n' % (SIDE, SIDE))
    # SVG: rasterized at its declared size.
    with open(f"{out}/bomb.svg", "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" '
                'height="%d"><rect width="10" height="10"/></svg>\n'
                % (SIDE, SIDE))
    # A large valid image: 16384 x 16384 grey, every row different.
    side = 16384
    png(f"{out}/large.png", side, side,
        (bytes([(y + x) & 0xFF for x in range(256)]) * (side // 256)
         for y in range(side)))


if __name__ == "__main__":
    main(sys.argv[1])
