from django.contrib import admin

from cordon.apps.audit.admin import AuditedAdmin, ReadOnlyAdmin

from .models import Case, Cluster, Contact, Linkage, RiskVenue, ScanBatch


@admin.register(Case)
class CaseAdmin(AuditedAdmin):
    list_display = ["code", "person", "classification", "district", "reported_at", "found_by", "control"]
    list_filter = ["classification", "found_by", "control"]
    search_fields = ["code"]
    raw_id_fields = ["person", "jurisdiction", "district", "workplace", "cluster", "created_by"]


@admin.register(Contact)
class ContactAdmin(AuditedAdmin):
    list_display = ["case", "person", "degree", "contact_type", "status", "decided_by", "decided_at"]
    list_filter = ["degree", "contact_type", "status"]
    raw_id_fields = ["case", "person", "via", "jurisdiction", "district", "decided_by"]


@admin.register(Cluster)
class ClusterAdmin(AuditedAdmin):
    list_display = ["code", "name", "merged_into", "created_at"]
    search_fields = ["code", "name"]
    raw_id_fields = ["merged_into", "created_by"]


@admin.register(Linkage)
class LinkageAdmin(AuditedAdmin):
    list_display = ["contact", "from_district", "to_district", "created_at", "acknowledged_at"]
    raw_id_fields = ["contact", "from_district", "to_district", "acknowledged_by"]


@admin.register(RiskVenue)
class RiskVenueAdmin(ReadOnlyAdmin):
    """Read-only: risk venues are derived by tracing (every trace of the case replaces them), so an edit by
    hand would be silently undone; re-trace the case instead."""

    list_display = ["venue", "case", "first_in", "last_out", "visits"]
    raw_id_fields = ["venue", "case"]


@admin.register(ScanBatch)
class ScanBatchAdmin(ReadOnlyAdmin):
    """Read-only: a scan batch is the record of one ingestion (what the store took in, skipped and why);
    changing it would falsify that record."""

    list_display = ["created_at", "filename", "source", "actor", "rows_read", "added", "duplicates"]
    raw_id_fields = ["actor"]
