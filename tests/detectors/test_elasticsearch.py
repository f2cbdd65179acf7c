from __future__ import annotations

from pathlib import Path

from detectors.elasticsearch import ElasticsearchDetector, addresses
from tests.helpers import inventory, ports, service

DATA = Path(__file__).parent / "data" / "elasticsearch"
YML = (DATA / "elasticsearch.yml").read_text()
JVM = (DATA / "jvm.options").read_text()


def test_packaged_defaults() -> None:
    inv = inventory(
        [ElasticsearchDetector], {"/etc/elasticsearch/elasticsearch.yml": YML, "/etc/elasticsearch/jvm.options": JVM}
    )
    es = service(inv, "elasticsearch")
    # `#network.host` / `#http.port` are commented out: _local_ and 9200/9300
    assert ports(es) == {("127.0.0.1", 9200), ("::1", 9200), ("127.0.0.1", 9300), ("::1", 9300)}
    assert [d.path for d in es.data_dirs] == ["/var/lib/elasticsearch"]
    assert [f.path for f in es.log_paths] == ["/var/log/elasticsearch"]
    assert "heap_Xmx" not in dict(es.attributes)  # commented out in jvm.options


def test_network_host_nested_keys_heap_override_and_secret() -> None:
    yml = (
        YML + "network:\n  host: 0.0.0.0\nhttp.port: 9201-9300\ntransport.host: _local_\n"
        "xpack.security.http.ssl.keystore.secure_password: ksPw7\n"
    )
    files = {
        "/etc/elasticsearch/elasticsearch.yml": yml,
        "/etc/elasticsearch/jvm.options": JVM,
        "/etc/elasticsearch/jvm.options.d/heap.options": "-Xms2g\n17-:-Xmx2g\n",
    }
    inv = inventory([ElasticsearchDetector], files)
    es = service(inv, "elasticsearch")
    assert ports(es) == {("0.0.0.0", 9201), ("127.0.0.1", 9300), ("::1", 9300)}
    assert dict(es.attributes)["heap_Xmx"] == "2g"
    assert [s.key for s in es.secrets] == ["xpack.security.http.ssl.keystore.secure_password"]
    assert "ksPw7" not in repr(inv)


def test_opensearch_flavour() -> None:
    inv = inventory([ElasticsearchDetector], {"/etc/opensearch/opensearch.yml": "path.data: [/d1, /d2]\n"})
    os_ = service(inv, "opensearch")
    assert os_.kind == "search"
    assert [d.path for d in os_.data_dirs] == ["/d1", "/d2"]


def test_addresses() -> None:
    assert addresses("_local_,_site_") == ["127.0.0.1", "::1", "_site_"]


def test_no_elasticsearch_no_service() -> None:
    assert inventory([ElasticsearchDetector], {"/etc/hostname": "h\n"}).services == ()
