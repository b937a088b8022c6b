import pytest

from models.grammar import is_valid_plate, normalise


@pytest.mark.parametrize(
    "plate",
    [
        "粤B6R678",
        "皖K66666",
        "鄂F8888警",
        "琼A6716学",
        "粤ZR066港",
        "沪A1707领",
        "苏ED51712",
        "皖AD55999",
        "粤B12345D",
    ],
)
def test_valid_plates(plate: str) -> None:
    assert is_valid_plate(plate)


@pytest.mark.parametrize(
    "plate",
    [
        "",
        "粤B6R67",
        "粤B6R6789",
        "AB6R678",
        "粤1B6R67",
        "粤IB6R67",
        "粤B6R67警8",
        "皖A123456",
        "粤B6R 678",
        "粤BDZZZZZ",
    ],
)
def test_invalid_plates(plate: str) -> None:
    assert not is_valid_plate(plate)


def test_normalise_drops_separators_and_maps_unused_letters() -> None:
    assert normalise("粤B·6R678") == "粤B6R678"
    assert normalise("粤b 6r-678") == "粤B6R678"
    assert normalise("粤BO12I4") == "粤B01214"


@pytest.mark.parametrize(
    "plate",
    ["粤BD1２３４５", "粤BD١٢٣٤٥", "粤BD१२३४५", "粤B١٢٣٤٥", "使١٢٣٤٥٦", "粤BＡ1234"],
)
def test_only_ascii_digits_and_letters_make_a_plate(plate: str) -> None:
    # Full-width, Arabic-Indic and Devanagari digits are digits to Python's \d, not on a plate.
    assert not is_valid_plate(normalise(plate))
