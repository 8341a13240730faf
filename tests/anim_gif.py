"""anim_gif.py OUT.gif - writes a 16x16 animated GIF of 3 frames of 20 ms,
solid red, green and blue, looping for ever. By hand (no ImageMagick):
the tests that need an animation should not need a converter too."""
import struct
import sys


def lzw(index, n):
    """n pixels of colour index, LZW-coded with a minimum code size of 2: a
    CLEAR before each pixel keeps every code 3 bits wide."""
    codes = [4, index] * n + [5]
    out, acc, bits = bytearray(), 0, 0
    for c in codes:
        acc |= c << bits
        bits += 3
        while bits >= 8:
            out.append(acc & 255)
            acc >>= 8
            bits -= 8
    return bytes(out) + (bytes([acc]) if bits else b"")


w = h = 16
gif = b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF1, 0, 0)
gif += bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0])  # 4 colours
gif += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop for ever
for k in range(3):
    gif += b"\x21\xf9\x04\x00" + struct.pack("<H", 2) + b"\x00\x00"  # 20 ms
    gif += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02"
    data = lzw(k, w * h)
    for i in range(0, len(data), 255):
        gif += bytes([len(data[i:i + 255])]) + data[i:i + 255]
    gif += b"\x00"
with open(sys.argv[1], "wb") as f:
    f.write(gif + b"\x3b")
