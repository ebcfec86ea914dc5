"""Administrators record data sharing agreements here. Persons and cases are deliberately not in the
admin: system administrators provision, they do not read case content."""

from django.contrib import admin

from cases.models import DataSharingAgreement


@admin.register(DataSharingAgreement)
class DataSharingAgreementAdmin(admin.ModelAdmin):
    list_display = ["name", "lawful_basis", "status", "review_date", "ends_on"]
    list_filter = ["status", "lawful_basis"]
    search_fields = ["name"]
    filter_horizontal = ["parties"]
