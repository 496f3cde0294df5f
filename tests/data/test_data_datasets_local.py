"""Datasets read from local files: load_digits and load_iris (scikit-learn's tables), ImageFolder/DatasetFolder and
the CSV loader."""

import sys

import numpy as np
import pytest

from ganglion.data import DataLoader, datasets

sklearn_datasets = pytest.importorskip("sklearn.datasets")
Image = pytest.importorskip("PIL.Image")


def test_load_digits_matches_scikit_learn():
    ours, theirs = datasets.load_digits(), sklearn_datasets.load_digits()
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.target, theirs.target)
    np.testing.assert_array_equal(ours.images, theirs.images)
    X, y = datasets.load_digits(n_class=4, return_X_y=True)
    X2, y2 = sklearn_datasets.load_digits(n_class=4, return_X_y=True)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    with pytest.raises(ValueError, match="n_class"):
        datasets.load_digits(n_class=11)


def test_load_iris_matches_scikit_learn():
    X, y = datasets.load_iris(return_X_y=True)
    X2, y2 = sklearn_datasets.load_iris(return_X_y=True)
    np.testing.assert_allclose(X, X2)
    np.testing.assert_array_equal(y, y2)


# ---------------------------------------------------------------------------------------------------- ImageFolder
@pytest.fixture
def image_tree(tmp_path, rng):
    """root/cat/{a.png, b.jpg}, root/dog/{c.bmp, nested/d.png, notes.txt}, root/empty/ (no images)."""
    root = tmp_path / "images"
    arrays = {}
    for rel, fmt in [("cat/a.png", "PNG"), ("cat/b.png", "PNG"), ("dog/c.bmp", "BMP"), ("dog/nested/d.png", "PNG")]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        array = rng.integers(0, 256, (5 + len(arrays), 7, 3), dtype=np.uint8)
        Image.fromarray(array).save(path, fmt)
        arrays[rel] = array
    (root / "dog" / "notes.txt").write_text("not an image")
    return root, arrays


def test_image_folder_classes_samples_and_decoding(image_tree):
    root, arrays = image_tree
    dataset = datasets.ImageFolder(root)
    assert dataset.classes == ["cat", "dog"] and dataset.class_to_idx == {"cat": 0, "dog": 1}
    assert [p.split("images")[-1].replace("\\", "/") for p, _ in dataset.samples] == [
        "/cat/a.png", "/cat/b.png", "/dog/c.bmp", "/dog/nested/d.png"]
    assert dataset.targets == [0, 0, 1, 1] and dataset.imgs is dataset.samples and len(dataset) == 4
    for i, rel in enumerate(["cat/a.png", "cat/b.png", "dog/c.bmp", "dog/nested/d.png"]):
        image, label = dataset[i]
        np.testing.assert_array_equal(image, arrays[rel])  # PNG and BMP are lossless
        assert image.dtype == np.uint8 and label == dataset.targets[i]


def test_image_folder_with_transform_through_a_loader(image_tree):
    from ganglion.data import transforms as T

    root, _ = image_tree
    dataset = datasets.ImageFolder(root, transform=T.Compose([T.Resize((4, 4)), T.ToTensor()]))
    images, labels = next(iter(DataLoader(dataset, batch_size=4)))
    assert images.shape == (4, 3, 4, 4) and labels.tolist() == [0, 0, 1, 1]


def test_image_folder_empty_class_is_an_error_unless_allowed(image_tree):
    root, _ = image_tree
    (root / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        datasets.ImageFolder(root)
    dataset = datasets.ImageFolder(root, allow_empty=True)
    assert dataset.classes == ["cat", "dog", "empty"] and len(dataset) == 4


def test_image_folder_without_class_folders(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no class folder"):
        datasets.ImageFolder(tmp_path)


def test_image_folder_needs_pillow_and_says_how_to_get_it(image_tree, monkeypatch):
    root, _ = image_tree
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now fails, as when Pillow is not installed
    with pytest.raises(ImportError, match=r"pip install 'ganglion\[images\]'"):
        datasets.ImageFolder(root)
    dataset = datasets.ImageFolder(root, loader=lambda path: path)  # a loader of one's own needs no Pillow
    assert dataset[0][0].endswith("a.png")


def test_dataset_folder_with_custom_extensions_and_validator(image_tree):
    root, _ = image_tree
    texts = datasets.DatasetFolder(root, loader=lambda p: open(p).read(), extensions=(".txt",), allow_empty=True)
    assert len(texts) == 1 and texts[0] == ("not an image", 1)
    pngs = datasets.DatasetFolder(root, loader=len, is_valid_file=lambda p: p.endswith(".png"))
    assert len(pngs) == 3
    with pytest.raises(ValueError, match="exactly one of extensions and is_valid_file"):
        datasets.DatasetFolder(root, loader=len)


# ------------------------------------------------------------------------------------------------------------ CSV
def test_load_csv_with_header_and_named_target(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text("length,width,species\n1.5,0.2,setosa\n4.7,1.4,versicolor\n5.0,,setosa\n")
    X, y = datasets.load_csv(path, target_column="species")
    np.testing.assert_allclose(X, [[1.5, 0.2], [4.7, 1.4], [5.0, np.nan]], equal_nan=True)
    assert X.dtype == np.float32 and y.tolist() == [0, 1, 0]
    table = datasets.load_csv(path, target_column="species", return_X_y=False)
    assert table["classes"] == ["setosa", "versicolor"] and table["feature_names"] == ["length", "width"]


def test_load_csv_without_header_numeric_target_and_column_choice(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,3,0\n4,5,6,1\n7,8,9,2\n")
    X, y = datasets.load_csv(path)
    assert X.shape == (3, 3) and y.tolist() == [0, 1, 2] and y.dtype == np.int64
    X, y = datasets.load_csv(path, target_column=0, feature_columns=[3, 1], dtype=np.float64)
    np.testing.assert_array_equal(X, [[0, 2], [1, 5], [2, 8]])
    assert y.tolist() == [1, 4, 7] and X.dtype == np.float64
    assert datasets.load_csv(path, target_column=None).shape == (3, 4)
    X, y = datasets.load_csv(path, header=True, target_column="1")  # the first row names the columns
    assert X.shape == (2, 3) and y.tolist() == [4, 7]


def test_data_row_with_a_name_is_not_taken_for_a_header(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("5.1,3.5,setosa\n6.2,2.9,virginica\n")
    X, y = datasets.load_csv(path)
    assert X.shape == (2, 2) and y.tolist() == [0, 1]


@pytest.mark.parametrize("text,kwargs,match", [
    ("a,b\n1,2\n3\n", {}, r"row 3: expected 2 fields, found 1"),
    ("a,b\n1,x\n", {"target_column": "a"}, r"row 2, column 'b': cannot read 'x'"),
    ("a,b\n1,2\n", {"target_column": "c"}, r"unknown target_column 'c'; the columns are \['a', 'b'\]"),
    ("a,b\n1,2\n", {"target_column": 5}, "target_column 5 is out of range"),
    ("", {}, "holds no rows"),
    ("a,b\n1,2\n", {"header": "yes"}, "header must be"),
])
def test_load_csv_errors_name_the_file_and_place(tmp_path, text, kwargs, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        datasets.load_csv(path, **kwargs)


def test_csv_dataset_samples_and_loader(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{i},{i * 2},{'ab'[i % 2]}\n" for i in range(10)))
    dataset = datasets.CSVDataset(path, target_column="label", transform=lambda x: x * 10)
    x, y = dataset[3]
    np.testing.assert_allclose(x, [30, 60])
    assert y == 1 and dataset.class_to_idx == {"a": 0, "b": 1}
    xb, yb = next(iter(DataLoader(dataset, batch_size=4)))
    assert xb.shape == (4, 2) and yb.tolist() == [0, 1, 0, 1]
