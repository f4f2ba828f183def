"""The read-stage rules: a file refused before any form is checked, with every message it is refused with.

They come first in the catalogue. Each message is a template keyed by the
situation; the code raising it names the rule and the key
(`ReadError(FILE_UNSAFE, "dtd", part=...)`), so a mistyped key or a missing
field fails where it is raised, and tests/test_catalogue.py checks every call
against these templates. No frame check: safety.py, read.py, form/analyse.py
and ops/execute.py refuse the file.
"""

from __future__ import annotations

from ..catalogue import READ, Rule, register
from ..models import ERROR

_RESAVE = "请用 Excel 或 WPS 重新保存后报送"
_SEND_EXCEL = "请报送 Excel 格式的自评表"

FILE_UNREADABLE = register(Rule(
    "FILE_UNREADABLE", ERROR, "文件无法读取",
    "文件损坏、不完整、设置了密码，或扩展名是电子表格而内容不是（如改名的 .docx）；压缩包内的文件加密或损坏", READ,
    messages={
        # read.py
        "not_regular": "不是普通文件（可能在读取前被替换为其他类型的文件），未读取",
        "empty": "文件为空（0 字节），请重新导出后再报送",
        "not_spreadsheet": "文件扩展名为 {suffix}，但内容是{kind}，不是电子表格；请用 Excel 或 WPS 另存为 .xlsx 后报送",
        "password": "文件设置了打开密码，请取消密码后重新报送",
        "corrupt": "文件已损坏或不完整，无法读取（{why}）",
        # safety.py
        "encrypted": "文件设置了打开密码（已加密），请取消密码后重新报送",
        "word_in_ole": "文件扩展名为 {suffix}，但内容是 Word 文档，不是电子表格；" + _SEND_EXCEL,
        "other_document": "文件扩展名为 {suffix}，但内容是{kind}，不是电子表格；" + _SEND_EXCEL,
        "bad_zip": "文件不完整或已损坏（压缩包结构无效），请重新保存后报送",
        "unzip": "文件不完整或已损坏，无法解压（{why}）",
        "workbook_xml": "文件已损坏：工作簿目录（xl/workbook.xml 或其关系文件）不是格式正确的 XML；" + _RESAVE,
        "unparsable_sheets": "文件已损坏或格式不受支持：{parts}，无法检查其内容范围；" + _RESAVE,
        # form/analyse.py: the parser crashed on the file
        "parser_crash": "读取文件时出错，无法解析（{error}: {detail}）",
        # ops/execute.py: the file took its worker process down (again, when retried alone)
        "worker_died": "读取该文件时解析进程异常终止（超出 {memory_mb} MB 内存或 {seconds} 秒上限，"
                       "或文件内部结构损坏），已跳过；请检查文件后重新保存报送",
        "cluster_worker_died": "读取该文件时集群工作进程异常终止（{error}），已跳过",
        # archives.py: one member of a package (the rest of the package is read)
        "member_encrypted": "压缩包内的该文件设置了密码（已加密），无法读取；请取消密码后重新打包报送",
        "member_unzip": "该文件在压缩包中已损坏，无法解压（{why}）；请重新打包报送",
    }))

FILE_UNSAFE = register(Rule(
    "FILE_UNSAFE", ERROR, "文件不安全",
    "压缩包解压后大小或压缩比超过上限，压缩包内文件路径越出压缩包或是符号链接，或 XML 含 DOCTYPE/ENTITY 声明", READ,
    messages={
        # read.py
        "file_size": "文件大小超过上限 {limit_mb:g} MB（{size_mb:.3g} MB），拒绝读取",
        # safety.py
        "total_size": "解压后总大小超过上限 {limit_mb:g} MB（至少 {size_mb:.0f} MB），拒绝读取",
        "member_size": "压缩包内 {name} 解压后超过单个文件上限 {limit_mb:g} MB（至少 {size_mb:.0f} MB），拒绝读取",
        "ratio": "压缩包内 {name} 压缩比 {ratio:.0f}:1，超过上限 {limit:g}:1（疑似压缩炸弹），拒绝读取",
        "case_clash": "压缩包内 {first} 与 {second} 的名称仅大小写不同（或完全相同），无法确定读取哪一个，拒绝读取",
        "dtd": "{part} 含有 DOCTYPE/ENTITY 声明（可能引用外部文件），拒绝读取",
        "misplaced_workbook": "工作簿主体不在标准位置 xl/workbook.xml（_rels/.rels 指向 {target}），"
                              "无法检查其工作表，拒绝读取；" + _RESAVE,
        "unnamed_oversized": "压缩包内 {part} 的内容延伸到 {ref}，超出读取上限（{max_rows} 行 × {max_cols} 列），"
                             "且无法对应到任何工作表，拒绝读取",
        # safety.py, for a package (archives.py): the whole package is refused, nothing in it is read
        "member_path": "压缩包内 {name} 的路径指向压缩包之外（含 ../ 或为绝对路径），整个压缩包拒绝打开",
        "member_link": "压缩包内 {name} 是符号链接（可能指向压缩包之外的文件），整个压缩包拒绝打开",
        "duplicate_member": "压缩包内有两个同名的 {name}，无法确定读取哪一个，整个压缩包拒绝打开",
        # form/analyse.py: every sheet is beyond the limits (`skipped` names them)
        "sheets_oversized": "{skipped}；请删除多余内容后重新报送",
    }))

NO_FORM_FOUND = register(Rule(
    "NO_FORM_FOUND", ERROR, "未找到自评表", "工作簿中没有任何工作表是项目支出绩效自评表", READ,
    messages={
        # form/analyse.py
        "no_form": "工作簿的工作表 {sheets} 中都没有找到项目支出绩效自评表（未找到「项目名称」「全年预算数」"
                   "「三级指标」等栏目）；请使用财政局下发的自评表模板填报",
        # form/analyse.py: the sheets are recognized, and none is a project form (SPEC section 1)
        "department_form": "工作表{sheets}是部门整体支出绩效自评表，不是项目支出绩效自评表；请报送项目支出绩效自评表",
        "department_form_and_others": "工作表{sheets}是部门整体支出绩效自评表，不是项目支出绩效自评表，"
                                      "其余工作表{others}也不是；请报送项目支出绩效自评表",
        "not_forms": "工作簿中只有{sheets}，没有项目支出绩效自评表；请报送项目支出绩效自评表",
    }))
