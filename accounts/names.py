"""Showing a person's name to someone who may not see it in full."""


def name_masked(name: str) -> str:
    """김민수 -> 김*수, 이수 -> 이*, 남궁민수 -> 남**수, 김 -> *: enough to tell rows apart or for a clerk to match a
    document, not enough to identify anyone."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
