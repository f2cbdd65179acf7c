# The compiled fast path of tarstream.TarReader (see _tarscan.c).
Member = tuple[str, str, int, int, int, int, float, str, int, int]

def scan(buf: bytes | bytearray | memoryview, pos: int, /) -> list[Member]: ...
