"""Every word the public notice board (公示) shows, in Chinese with English beside.

Kept in one table so that it can move to the message catalogues later: each key maps to
a ``(zh, en)`` pair. Pages show both, Chinese first.
"""

from __future__ import annotations

from typing import Final

__all__ = ["TEXT", "both"]

TEXT: Final[dict[str, tuple[str, str]]] = {
    "site_title": ("社区积分与集体收益公示", "Community points and collective income notice"),
    "months": ("各月公示", "Monthly notices"),
    "month_title": ("{month} 公示", "Notice for {month}"),
    "check_receipt": ("核对我的凭证", "Check my receipt"),
    "log": ("公开日志", "The public log"),
    "log_intro": (
        "本站的全部数据来自一份签名的、只增不改的账本。任何人都可以下载日志（tlog-tiles 格式）"
        "自行核对，无需信任发布者。",
        "Everything here comes from a signed, append-only ledger. Anyone can download the log "
        "(tlog-tiles format) and check it without trusting whoever published it.",
    ),
    "checkpoint": ("检查点", "Checkpoint"),
    "entries": ("条目数", "Entries"),
    "root": ("根哈希", "Root hash"),
    "log_key": ("日志公钥", "Log key"),
    "witness_keys": ("见证人公钥", "Witness keys"),
    "none": ("无", "none"),
    "privacy": (
        "本站只公示账户编号，不公示姓名、电话或身份证号。",
        "This site shows account ids only: never names, phone numbers or ID numbers.",
    ),
    "charity": ("公益池收支", "Charity pool inflow and outflow"),
    "pool": ("池账户", "Pool"),
    "date": ("日期", "Date"),
    "entry": ("条目", "Entry"),
    "kind": ("类型", "Kind"),
    "amount_yuan": ("金额（元）", "Amount (yuan)"),
    "amount_points": ("积分", "Points"),
    "counterparty": ("对方账户", "Counterparty"),
    "purpose": ("用途", "Purpose"),
    "signed_by": ("签名密钥", "Signed by (key ids)"),
    "inflow": ("流入", "Inflow"),
    "outflow": ("流出", "Outflow"),
    "month_total": ("本月合计", "This month"),
    "balance": ("累计余额", "Balance to date"),
    "distributions": ("收益分配", "Revenue distributions"),
    "period": ("期间", "Period"),
    "distributed": ("分配总额（元）", "Distributed (yuan)"),
    "investor_share": ("投资方份额（元）", "Investor share (yuan)"),
    "bucket": ("分配项", "Bucket"),
    "bucket_total": ("小计（元）", "Subtotal (yuan)"),
    "account": ("账户", "Account"),
    "share": ("所得（元）", "Received (yuan)"),
    "working": ("计算过程", "Full working"),
    "points_by_service": ("按服务项目发放的积分", "Points issued per service"),
    "service": ("服务项目", "Service"),
    "awards": ("次数", "Awards"),
    "quantity": ("服务量", "Quantity"),
    "points_by_grid": ("按网格发放的积分", "Points issued per grid"),
    "grid": ("网格", "Grid"),
    "volunteers": ("志愿者人数", "Volunteers"),
    "settlements": ("商家结算", "Partner settlements"),
    "partner": ("商家", "Partner"),
    "fund": ("支付基金", "Paying fund"),
    "redemptions": ("兑换笔数", "Redemptions"),
    "paid_yuan": ("结算金额（元）", "Paid (yuan)"),
    "nothing": ("本月无记录。", "Nothing this month."),
    "receipt_title": ("核对凭证", "Check a receipt"),
    "receipt_intro": (
        "选择您的凭证文件（.json）。核对完全在本机浏览器中进行，不联网，不上传任何内容。",
        "Choose your receipt file (.json). The check runs in this browser only: nothing is "
        "sent anywhere.",
    ),
    "choose_file": ("选择凭证文件", "Choose receipt file"),
    "qr_heading": ("核对纸质凭证上的二维码", "Check the QR code of a printed receipt"),
    "qr_intro": (
        "用手机相机扫描纸质凭证上的二维码，会直接打开本页并核对；也可以把二维码里的文字粘贴到下面，"
        "或拍一张二维码的照片。二维码只含条目号和哈希，本页用本站公示的账本数据核对它。",
        "Scanning the printed receipt's QR code with a phone camera opens this page and checks "
        "it; you can also paste the QR code's text below, or take a photo of the QR code. The QR "
        "code holds only the entry number and hashes: this page checks them against the log "
        "this site publishes.",
    ),
    "paste_qr": ("二维码文字", "QR code text"),
    "check_qr": ("核对", "Check"),
    "scan_qr": ("用相机扫描或选择照片", "Scan with the camera or choose a photo"),
    "waiting": ("尚未选择文件。", "No file chosen yet."),
    "printed_title": ("记账凭证", "Ledger receipt"),
    "printed_intro": (
        "此凭证证明下列记录已写入社区账本。请保存同名的 .json 文件：在公示网站的“核对凭证”页面"
        "打开它，即可在手机或电脑上离线核对。",
        "This receipt proves that the entry below is in the community ledger. Keep the .json "
        "file of the same name: open it on the notice board's 'Check my receipt' page to check "
        "it offline on a phone or computer.",
    ),
    "ledger": ("账本", "Ledger"),
    "event": ("事项", "Event"),
    "business_date": ("业务日期", "Business date"),
    "recorded_at": ("记录时间（UTC）", "Recorded at (UTC)"),
    "postings": ("记账", "Postings"),
    "entry_hash": ("条目哈希", "Entry hash"),
    "witnessed": ("见证人副签", "Cosigned by witnesses"),
    "qr": (
        "二维码内容：账本、条目号、条目哈希与检查点，可与公示的日志对照。",
        "The QR code holds the ledger, the entry number, its hash and the checkpoint, to match "
        "against the published log.",
    ),
    "qr_link": (
        "用手机相机扫描二维码，即打开公示网站 {url} 的核对页面，用公示的账本核对这条记录。",
        "Scan the QR code with a phone camera: it opens the receipt page of the notice board "
        "at {url}, which checks this entry against the published log.",
    ),
    "no_qr": (
        "未安装二维码组件（pip install 'points_ledger[qr]'）。",
        "No QR code: the QR extra is not installed (pip install 'points_ledger[qr]').",
    ),
}
"""Every string of the notice pages, ``key -> (zh, en)``."""


def both(key: str, **values: object) -> tuple[str, str]:
    """Return the Chinese and English text for ``key``, with ``{name}`` fields filled.

    Raises:
        KeyError: for a key the table does not have.
    """
    zh, en = TEXT[key]
    return zh.format(**values), en.format(**values)
