from atiende.channels.schemas import ChannelCreate, ChannelOut, ChannelUpdate
from atiende.channels.service import channel_service
from atiende.kit.crud import crud_router

channels = crud_router(service=channel_service, create_schema=ChannelCreate, update_schema=ChannelUpdate,
                       out_schema=ChannelOut, prefix="/api/v1/channels", tag="channels")
