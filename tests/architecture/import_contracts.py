"""A custom import-linter contract: apps talk to each other only through their public modules.

``public_api`` contract options:

- ``containers``: the apps (``cordon.apps.*``);
- ``public``: the sub-module names an app offers to other apps (``models``, ``actions``, ``selectors``,
  ``events``); a sub-module of a public package (``actions.placement``) is private to its app;
- ``also_public``: single modules offered besides (``cordon.apps.audit.admin`` for ``AuditedAdmin``);
- ``wiring``: the modules that wire the apps' edges into the site (``cordon.site.urls`` includes each app's
  ``urls``, ``cordon.site.api`` registers each app's ``api`` router): they may import those edges.

Any other module, in an app or outside the apps, that imports a module of an app that is neither the app itself
nor one of its public modules breaks the contract. Loaded by ``lint-imports`` (which puts the working directory
on ``sys.path``) through ``contract_types`` in pyproject.toml.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class PublicApiContract(Contract):
    type_name = "public_api"

    containers = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())
    also_public = fields.ListField(subfield=fields.StringField(), required=False)
    wiring = fields.ListField(subfield=fields.StringField(), required=False)

    def _owner(self, module: str) -> str | None:
        for container in self.containers:  # type: ignore[attr-defined]
            if module == container or module.startswith(container + "."):
                return str(container)
        return None

    def _is_public(self, container: str, module: str) -> bool:
        if module == container or module in (self.also_public or []):  # type: ignore[attr-defined]
            return True
        return any(module == f"{container}.{name}" for name in self.public)  # type: ignore[attr-defined]

    def check(self, graph, verbose: bool) -> ContractCheck:  # type: ignore[no-untyped-def]
        wiring = set(self.wiring or [])  # type: ignore[attr-defined]
        broken = []
        for importer in sorted(graph.modules):
            if importer in wiring:
                continue
            mine = self._owner(importer)
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                theirs = self._owner(imported)
                if theirs is None or theirs == mine or self._is_public(theirs, imported):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = [d["line_number"] for d in details]
                broken.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            lines = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({lines})", bold=False)
        output.new_line()
        output.print(
            "Import another app's models, actions, selectors or events only; move what you need there.",
        )
