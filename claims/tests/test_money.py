from django.utils import translation

from claims.templatetags.money import format_won


def test_won_has_thousands_separators_and_the_won_sign():
    with translation.override("ko"):
        assert format_won(1234000) == "1,234,000원"
        assert format_won(0) == "0원"


def test_won_reads_naturally_in_english():
    with translation.override("en"):
        assert format_won(1234000) == "1,234,000 won"


def test_missing_amount_shows_a_dash():
    assert format_won(None) == "-"
