from claims.templatetags.money import format_won


def test_won_has_thousands_separators_and_the_won_sign():
    assert format_won(1234000) == "1,234,000원"
    assert format_won(0) == "0원"


def test_missing_amount_shows_a_dash():
    assert format_won(None) == "-"
