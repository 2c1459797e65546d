"""A collections/billing knowledge base and, written apart from its phrasings, how customers
actually ask: typos, no accents, chat spellings, long sentences. Plus messages about other things."""

ENTRIES: list[tuple[str, list[str], str]] = [
    ("¿Cómo pago mi factura?", ["medios de pago", "formas de pagar"], "Puedes pagar en línea, en bancos o corresponsales."),
    ("¿Dónde descargo mi factura?", ["ver factura en línea", "copia de la factura"], "Descárgala en la sección Mis facturas."),
    ("¿Cuánto debo?", ["saldo pendiente", "valor de la deuda"], "Consulta tu saldo en la app o envía tu cédula."),
    ("¿Puedo hacer un acuerdo de pago?", ["financiar la deuda", "pagar en cuotas"], "Sí, ofrecemos acuerdos de hasta 12 cuotas."),
    ("¿Cuál es el horario de atención?", ["a qué hora atienden", "días de atención"], "Lunes a viernes de 8:00 a 17:00."),
    ("Ya pagué y sigo apareciendo en mora", ["pago no reflejado", "pagué pero no aparece"], "Los pagos se reflejan en 48 horas hábiles."),
    ("¿Cómo obtengo un paz y salvo?", ["certificado de no deuda", "constancia de pago total"], "Solicítalo en la app, llega en 5 días."),
    ("¿Me reportaron a centrales de riesgo?", ["datacrédito", "reporte negativo"], "El reporte se actualiza 30 días después del pago."),
    ("¿Cuál es la fecha límite de pago?", ["cuándo vence mi factura", "fecha de vencimiento"], "La fecha aparece en tu factura, normalmente el día 15."),
    ("¿Cómo actualizo mis datos?", ["cambiar mi correo", "cambiar mi dirección"], "Actualiza tus datos en Mi perfil."),
    ("¿Por qué me cobraron intereses de mora?", ["cobro de intereses", "recargo por pago tardío"], "Se cobran intereses cuando pagas después del vencimiento."),
    ("Quiero un descuento para pagar mi deuda", ["condonación de intereses", "rebaja de la deuda"], "Tenemos campañas de descuento; un asesor te contacta."),
    ("¿Cuáles son los números de cuenta para consignar?", ["cuenta bancaria para transferir", "consignación en banco"], "Cuenta corriente Banco Demo 123-456789."),
    ("¿Puedo pagar con tarjeta de crédito?", ["pago con tarjeta", "aceptan tarjetas"], "Sí, con Visa y Mastercard en el portal."),
    ("Me llegó una factura con un cobro que no reconozco", ["cobro indebido", "reclamo por cobro"], "Radica un reclamo en la app con el detalle."),
    ("¿Cómo cancelo el servicio?", ["dar de baja", "terminar contrato"], "Para cancelar necesitas estar al día; un asesor te guía."),
    ("¿Dónde están las oficinas?", ["dirección de la sede", "puntos de atención presencial"], "Calle 100 # 10-20, Bogotá."),
    ("¿Cómo recibo la factura en mi correo?", ["factura electrónica", "factura por email"], "Actívala en Mi perfil > Factura electrónica."),
    ("¿Qué pasa si no pago?", ["consecuencias de no pagar", "suspensión del servicio"], "El servicio se suspende a los 30 días de mora."),
    ("¿Cómo reconecto el servicio?", ["reactivar el servicio", "reconexión"], "Paga el saldo y se reconecta en 24 horas."),
]

# Per entry, in ENTRIES' order: what customers write (none repeats a phrasing above).
PARAPHRASES: list[list[str]] = [
    ["como puedo pagar", "q medios de pago tienen porfa", "necesito pagar la factura como hago", "cómo le pago"],
    ["donde bajo la factura", "necesito una copia de mi factura del mes", "como descargo el recibo en pdf"],
    ["cuanto es lo q debo", "cual es mi saldo", "quiero saber cuanto debo a la fecha"],
    ["puedo pagar por cuotas", "kiero hacer un acuerdo de pago", "me pueden financiar lo que debo", "no puedo pagar todo de una, puedo diferirlo?"],
    ["a q hora abren", "cual es su horario", "atienden los sabados?"],
    ["ya pague y me siguen cobrando", "hice el pago y no aparece", "pague ayer pero sigo en mora"],
    ["necesito el paz y salvo", "como saco un certificado de que no debo nada"],
    ["estoy reportado en datacredito?", "me van a reportar en las centrales de riesgo"],
    ["hasta cuando puedo pagar", "cuando se vence la factura", "fecha limite para pagar"],
    ["quiero cambiar mi correo electronico", "como actualizo mi direccion", "actualizar mis datos personales"],
    ["xq me cobraron intereses", "por que me llego un recargo"],
    ["me pueden hacer un descuento", "hay rebaja si pago hoy", "quiero que me quiten los intereses"],
    ["a que cuenta consigno", "numero de cuenta para transferencia"],
    ["puedo pagar con tarjeta", "reciben tarjeta de credito?"],
    ["me cobraron algo que no reconozco", "tengo un cobro raro en la factura"],
    ["quiero cancelar el servicio", "como me doy de baja"],
    ["donde queda la oficina", "cual es la direccion de ustedes"],
    ["quiero la factura en mi email", "como activo la factura electronica"],
    ["que pasa si no pago a tiempo", "me van a suspender el servicio?"],
    ["como reactivo el servicio", "me cortaron el servicio como lo reconecto"],
]

OUT_OF_DOMAIN = [
    "quiero pedir una pizza", "cuál es la capital de francia", "me recomiendas una película",
    "qué clima hace hoy", "cuántos años tienes", "juegas fútbol", "tengo hambre", "me duele la cabeza",
    "quién ganó el partido ayer", "cuéntame un chiste", "vendo carro usado", "necesito un taxi",
    "qué hora es en japón", "cómo se hace un pastel de chocolate", "tienes novia",
]
