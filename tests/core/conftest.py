import pytest


@pytest.fixture(params=["binary", "multiclass", "multilabel"])
def task(request):
    return request.param
