"""Reference data: regions, brands, tariff plans, add-ons and services.

Loaded through the ORM and idempotent (matched by code or name), so the
demo, the benchmarks and the tests share one definition."""
from decimal import Decimal as D

from trytond.pool import Pool

# (code, name, type, parent code)
REGIONS = [
    ('440000', "广东省", 'province', None),
    ('440100', "广州市", 'city', '440000'),
    ('440103', "荔湾区", 'district', '440100'),
    ('440104', "越秀区", 'district', '440100'),
    ('440106', "天河区", 'district', '440100'),
    ('440300', "深圳市", 'city', '440000'),
    ('440303', "罗湖区", 'district', '440300'),
    ('440304', "福田区", 'district', '440300'),
    ('440305', "南山区", 'district', '440300'),
    ('440600', "佛山市", 'city', '440000'),
    ('440604', "禅城区", 'district', '440600'),
    ('440606', "顺德区", 'district', '440600'),
    ]
DISTRICTS = [r[0] for r in REGIONS if r[2] == 'district']

BRANDS = [
    ('GOTONE', "全球通", "高端商务品牌，后付费为主"),
    ('SZX', "神州行", "大众品牌，预付费为主"),
    ('MZONE', "动感地带", "年轻人品牌，流量优惠"),
    ]

# name, type, brand code, monthly fee, minutes, sms, data MB,
# voice rate, sms rate, data rate, commitment, min age, max age, change
PLANS = [
    ("全球通 88元套餐", 'plan', 'GOTONE', '88', 300, 100, 10240,
        '0.19', '0.10', '0.03', 12, None, None, 'next_cycle'),
    ("全球通 128元套餐", 'plan', 'GOTONE', '128', 500, 200, 20480,
        '0.19', '0.10', '0.03', 12, None, None, 'next_cycle'),
    ("全球通 188元套餐", 'plan', 'GOTONE', '188', 800, 300, 40960,
        '0.15', '0.10', '0.03', 24, None, None, 'next_cycle'),
    ("全球通 288元尊享套餐", 'plan', 'GOTONE', '288', 1500, 500, 102400,
        '0.15', '0.10', '0.02', 24, None, None, 'next_cycle'),
    ("神州行 8元保号套餐", 'plan', 'SZX', '8', 0, 0, 100,
        '0.25', '0.10', '0.05', 0, None, None, 'immediate'),
    ("神州行 18元畅聊卡", 'plan', 'SZX', '18', 100, 50, 1024,
        '0.19', '0.10', '0.05', 0, None, None, 'immediate'),
    ("神州行 38元家园卡", 'plan', 'SZX', '38', 200, 100, 5120,
        '0.19', '0.10', '0.03', 0, None, None, 'next_cycle'),
    ("神州行 58元套餐", 'plan', 'SZX', '58', 300, 100, 10240,
        '0.19', '0.10', '0.03', 0, None, None, 'next_cycle'),
    ("动感地带 19元校园卡", 'plan', 'MZONE', '19', 50, 50, 10240,
        '0.19', '0.10', '0.03', 0, 16, 25, 'immediate'),
    ("动感地带 29元潮玩卡", 'plan', 'MZONE', '29', 100, 50, 20480,
        '0.19', '0.10', '0.03', 0, None, 30, 'immediate'),
    ("动感地带 59元芒果卡", 'plan', 'MZONE', '59', 200, 100, 40960,
        '0.19', '0.10', '0.03', 12, None, 35, 'next_cycle'),
    ("流量加油包 10元1GB", 'addon', None, '10', 0, 0, 1024,
        None, None, None, 0, None, None, None),
    ("流量加油包 30元5GB", 'addon', None, '30', 0, 0, 5120,
        None, None, None, 0, None, None, None),
    ("语音包 15元100分钟", 'addon', None, '15', 100, 0, 0,
        None, None, None, 0, None, None, None),
    ("短信包 5元100条", 'addon', None, '5', 0, 100, 0,
        None, None, None, 0, None, None, None),
    ("来电显示", 'vas', None, '5', None, None, None,
        None, None, None, 0, None, None, None),
    ("彩铃", 'vas', None, '5', None, None, None,
        None, None, None, 0, None, None, None),
    ("139邮箱", 'vas', None, '0', None, None, None,
        None, None, None, 0, None, None, None),
    ("咪咕视频会员", 'vas', None, '15', None, None, None,
        None, None, None, 0, None, None, None),
    ("手机报", 'vas', None, '3', None, None, None,
        None, None, None, 0, None, None, None),
    ]


def _decimal(value):
    return D(value) if value is not None else None


def load_reference():
    "Create what is missing; return (regions, brands, products) by key"
    pool = Pool()
    Region = pool.get('telecom.region')
    Brand = pool.get('telecom.brand')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    ModelData = pool.get('ir.model.data')

    regions = {r.code: r for r in Region.search([])}
    for code, name, type_, parent in REGIONS:
        if code not in regions:
            region = Region(code=code, name=name, type=type_,
                parent=regions[parent] if parent else None)
            region.save()
            regions[code] = region

    brands = {b.code: b for b in Brand.search([])}
    missing = [Brand(code=c, name=n, description=d)
        for c, n, d in BRANDS if c not in brands]
    Brand.save(missing)
    brands.update((b.code, b) for b in missing)

    unit = Uom(ModelData.get_id('product', 'uom_unit'))
    products = {t.name: t for t in Template.search(
            [('telecom_type', '!=', None)])}
    missing = []
    for (name, type_, brand, fee, minutes, sms, data, voice_rate, sms_rate,
            data_rate, commitment, min_age, max_age, change) in PLANS:
        if name in products:
            continue
        missing.append(Template(name=name, type='service',
                default_uom=unit, telecom_type=type_,
                telecom_brand=brands[brand] if brand else None,
                monthly_fee=D(fee), voice_minutes=minutes, sms_count=sms,
                data_mb=data, voice_rate=_decimal(voice_rate),
                sms_rate=_decimal(sms_rate), data_rate=_decimal(data_rate),
                # international roaming (Hong Kong/Macao zone tariff)
                roaming_voice_rate=D('0.99') if type_ == 'plan' else None,
                roaming_sms_rate=D('0.39') if type_ == 'plan' else None,
                roaming_data_rate=D('0.50') if type_ == 'plan' else None,
                commitment_months=commitment, min_age=min_age,
                max_age=max_age,
                plan_change_effective=change or 'next_cycle'))
    Template.save(missing)
    products.update((t.name, t) for t in missing)
    return regions, brands, products
