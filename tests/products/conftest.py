"""Fixtures of the products tests."""

import pytest

from pmhub.accounts.models import Role
from tests.factories import MembershipFactory, ProductFactory, WorkspaceFactory


@pytest.fixture
def other_workspace(pm):
    """A second workspace the pm owns, with a product of its own."""
    workspace = WorkspaceFactory(name="Side project", slug="side")
    MembershipFactory(workspace=workspace, user=pm, role=Role.OWNER)
    ProductFactory(workspace=workspace, name="Side", key="SIDE")
    return workspace
