import hashlib
import io
import json

from config.hashing import FileDigest, sha256_chunks, sha256_file, sha256_hex, sha256_json, sha256_path

TEXT = "홍길동님, 아래 내용을 읽고 동의해 주세요."


def test_a_text_is_hashed_as_its_utf8_bytes():
    assert sha256_hex(TEXT) == sha256_hex(TEXT.encode("utf-8")) == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()


def test_chunks_hash_as_their_concatenation():
    assert sha256_chunks([b"ab", b"", b"cd"]) == hashlib.sha256(b"abcd").hexdigest()


def test_a_file_is_hashed_from_its_start_in_chunks_and_left_rewound(tmp_path):
    data = bytes(range(256)) * 100
    file = io.BytesIO(data)
    file.seek(1000)
    assert sha256_file(file, chunk_size=1000) == FileDigest(len(data), hashlib.sha256(data).hexdigest())
    assert file.tell() == 0
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert sha256_path(path) == (len(data), hashlib.sha256(data).hexdigest())


def test_json_is_hashed_in_its_canonical_form():
    data = {"b": [1, 2.5, None], "a": {"이름": "김민수", "z": True}}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert sha256_json(data) == hashlib.sha256(canonical).hexdigest()
