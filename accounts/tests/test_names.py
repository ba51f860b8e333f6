import pytest

from accounts.names import name_masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("김민수", "김*수"),
        ("홍길동", "홍*동"),
        ("이수", "이*"),
        ("남궁민수", "남**수"),
        ("김", "*"),
        ("", "*"),
        (" 이준 ", "이*"),
    ],
)
def test_names_keep_at_most_their_first_and_last_letters(name, masked):
    assert name_masked(name) == masked
