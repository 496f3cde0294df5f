"""CRC-32C (Castagnoli), the checksum TFRecord framing uses, and its "masked" form.

A table-driven CRC over the reflected polynomial 0x82F63B78: one table lookup per byte. Masking rotates the CRC and
adds a constant so that a CRC computed over data that itself contains CRCs does not collapse (TFRecord's rule)."""

_POLYNOMIAL = 0x82F63B78  # 0x1EDC6F41 bit-reversed


def _make_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data):
    """CRC-32C of ``data`` (bytes-like), as an unsigned 32-bit int.  ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked CRC: ``((crc >> 15) | (crc << 17)) + 0xA282EAD8`` modulo 2**32."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
