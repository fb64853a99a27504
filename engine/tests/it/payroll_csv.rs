//! Property tests of the payroll CSV reader: files written from random rows (quotes,
//! commas, spaces, Unicode, every line end, a byte-order mark, blank lines, any column
//! order) read back to exactly those rows, field for field, with the file's own line
//! numbers; and a file with one damaged line is refused at exactly that line.

use payrail_engine::payroll_csv::{COLUMNS, PayrollCsv};
use proptest::prelude::*;

/// A row's values, in `COLUMNS` order (`None`: the file has no such column).
type Values = [Option<String>; 5];

/// A file as written, and what reading it must give.
#[derive(Clone, Debug)]
struct File {
    bytes: Vec<u8>,
    /// Each row's line number and values.
    rows: Vec<(i32, Values)>,
    /// Each row's fields as written, for damaging one.
    written: Vec<Vec<String>>,
    /// The lines before each row's line, as written, with its line end.
    line_ends: Vec<&'static str>,
    header: String,
}

fn value() -> impl Strategy<Value = String> {
    // Commas, quotes, spaces and Unicode, never a line end.
    proptest::string::string_regex("[a-zA-Z0-9 ,\"'éÉ漢😀.-]{0,12}").expect("a regex")
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

/// A field as a writer may put it: quoted when it must be, and sometimes when it need not.
fn encode(value: &str, quote: bool) -> String {
    if quote || value.contains([',', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

prop_compose! {
    fn file()(
        optional in prop::collection::vec(any::<bool>(), 3),
        order in Just((0..COLUMNS.len()).collect::<Vec<_>>()).prop_shuffle(),
        rows in prop::collection::vec(
            ("[0-9]{1,12}", prop::collection::vec(value(), 4), prop::collection::vec(any::<bool>(), 5), line_end(), 0..3usize),
            1..12),
        bom in any::<bool>(),
        header_end in line_end(),
        last_end in any::<bool>(),
    ) -> File {
        let present: Vec<usize> = order
            .into_iter()
            .filter(|column| *column < 2 || optional[*column - 2])
            .collect();
        let header = present.iter().map(|c| COLUMNS[*c].to_uppercase()).collect::<Vec<_>>().join(",");
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        text.push_str(&header);
        text.push_str(header_end);
        let mut line = 1;
        let (mut expected, mut written, mut line_ends) = (Vec::new(), Vec::new(), Vec::new());
        let count = rows.len();
        for (index, (msisdn, others, quotes, end, blanks)) in rows.into_iter().enumerate() {
            for _ in 0..blanks {
                // A blank row a spreadsheet leaves: commas and spaces, never empty, so that
                // it cannot merge with a lone CR before it into one CRLF.
                text.push_str(" ,");
                text.push('\n');
                line += 1;
            }
            line += 1;
            let all: [String; 5] = [msisdn, others[0].clone(), others[1].clone(), others[2].clone(), others[3].clone()];
            let mut values: Values = Default::default();
            let fields: Vec<String> = present
                .iter()
                .map(|column| {
                    values[*column] = Some(all[*column].clone());
                    encode(&all[*column], quotes[*column])
                })
                .collect();
            text.push_str(&fields.join(","));
            if index + 1 < count || last_end {
                text.push_str(end);
            }
            expected.push((line, values));
            written.push(fields);
            line_ends.push(end);
        }
        File { bytes: text.into_bytes(), rows: expected, written, line_ends, header }
    }
}

/// What the reader makes of a file: rows with their values, or each line's fault.
fn read(bytes: &[u8]) -> Vec<Result<(i32, Values), i32>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut csv = PayrollCsv::open(bytes).await.expect("the header reads");
        let mut out = Vec::new();
        while let Some(row) = csv.next().await.expect("the file reads") {
            out.push(match row {
                Ok(row) => Ok((
                    row.line,
                    [
                        Some(row.msisdn().to_owned()),
                        Some(row.amount().to_owned()),
                        row.name().map(str::to_owned),
                        row.reference().map(str::to_owned),
                        row.note().map(str::to_owned),
                    ],
                )),
                Err(fault) => Err(fault.line),
            });
        }
        out
    })
}

/// The file again, with row `row` written as `line` instead.
fn with_line(file: &File, row: usize, line: &str) -> Vec<u8> {
    let mut text = String::from_utf8(file.bytes.clone()).expect("UTF-8");
    let written = file.written[row].join(",");
    // Rows are found from the end, so an earlier row with the same text is left alone.
    let mut at = text.len();
    for later in (row..file.written.len()).rev() {
        let needle = file.written[later].join(",");
        at = text[..at].rfind(&needle).expect("the row is in the file");
    }
    text.replace_range(at..at + written.len(), line);
    text.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_written_file_reads_back_to_its_rows_field_for_field(file in file()) {
        let read = read(&file.bytes);
        let expected: Vec<Result<(i32, Values), i32>> = file.rows.iter().cloned().map(Ok).collect();
        prop_assert_eq!(read, expected, "header {:?}, ends {:?}", file.header, file.line_ends);
    }

    #[test]
    fn a_damaged_line_is_refused_at_its_own_number(
        file in file(),
        pick in any::<prop::sample::Index>(),
        damage in 0..5usize,
    ) {
        let row = pick.index(file.rows.len());
        let fields = &file.written[row];
        let mut damaged = fields.clone();
        match damage {
            0 => damaged.push("extra".into()),
            1 => damaged.truncate(fields.len() - 1),
            2 => *damaged.last_mut().expect("a field") = "\"open".into(),
            3 => damaged[0] = "O\"Brien".into(),
            _ => damaged[0] = "\"closed\"then".into(),
        }
        let line_text = damaged.join(",");
        // A line left with nothing but commas and spaces is a blank row, skipped by design.
        prop_assume!(!line_text.chars().all(|c| c == ',' || c == ' '));
        let bytes = with_line(&file, row, &line_text);
        let read = read(&bytes);
        let (line, _) = &file.rows[row];
        let faults: Vec<i32> = read.iter().filter_map(|r| r.as_ref().err().copied()).collect();
        prop_assert_eq!(faults, vec![*line]);
        prop_assert_eq!(read.len(), file.rows.len());
    }
}
