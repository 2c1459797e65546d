"""The Permisos tab, one value object shared by the table, the API and the engine."""

from pydantic import BaseModel, Field


class CampaignPermissions(BaseModel):
    external_resources: bool = Field(False, description="Permitir recursos externos (attachments)")
    transfer_between_agents: bool = Field(False, description="Transferir conversaciones entre agentes")
    show_contact_number: bool = Field(False, description="Mostrar número de contacto en el chat")
    history_enabled: bool = Field(False, description="Habilitar histórico en conversación")
    history_hours: int | None = Field(None, ge=1, le=8760, description="Cantidad de horas históricas")
    reassign_when_exclusive_offline: bool = Field(
        False, description="Reasignar conversaciones cuando el agente exclusivo esté Offline o Logged Out")
    close_without_reply: bool = Field(False, description="Finalizar conversaciones sin responder")
    emojis: bool = Field(True, description="Habilitar envío de emoticones")
    voice_notes: bool = Field(False, description="Habilitar envío de notas de voz")
