//! What each report looks like as a document: its title and number, header fields,
//! columns, totals and end note, and the cells of one of its rows. The same description
//! makes the CSV, the XLSX and the PDF.

use super::analytics::{Analytics, AnalyticsPeriod};
use super::batch_statement::BatchStatementHead;
use super::render::{amount_cell, count_and_sum, grouped, header, text_cell, time_cell};
use super::statement::{StatementHead, StatementLine};
use super::transactions::TransactionScope;
use jiff::tz::TimeZone;

use crate::export::{Cell, Column, ColumnKind, Field, Report};
use crate::money::Currency;
use crate::store::batch_statements::ReconciledLine;
use crate::store::transactions::{Transaction, TransactionTotals, TransactionType};

fn money(currency: Currency) -> ColumnKind {
    ColumnKind::Amount {
        exponent: currency.exponent(),
    }
}

/// The statement: an opening-balance row, one row per movement, a closing-balance row.
pub fn statement(head: &StatementHead) -> Report {
    let currency = head.merchant.currency;
    let amount = money(currency);
    let totals = &head.totals;
    let mut fields = header(&head.merchant, Some(&head.period), head.generated_at);
    fields.insert(0, Field::new("Statement", head.number.clone()));
    Report {
        title: "Account statement".into(),
        reference: head.number.clone(),
        header: fields,
        columns: vec![
            Column::new("Time", ColumnKind::Time, 19),
            Column::new("Type", ColumnKind::Text, 15),
            Column::new("Description", ColumnKind::Text, 20),
            Column::new("Reference", ColumnKind::Text, 14),
            Column::new("MSISDN", ColumnKind::Text, 12),
            Column::new("Payrail id", ColumnKind::Text, 36),
            Column::new("Operator transaction id", ColumnKind::Text, 14).below(5),
            Column::new("Debit", amount, 14),
            Column::new("Credit", amount, 14),
            Column::new("Fee", amount, 10),
            Column::new("Balance", amount, 14),
        ],
        totals: vec![
            Field::new("Opening balance", grouped(head.opening, currency)),
            Field::new(
                "Credits",
                count_and_sum(totals.credits, totals.credit_sum, currency),
            ),
            Field::new(
                "Debits",
                count_and_sum(totals.debits, totals.debit_sum, currency),
            ),
            Field::new("Fees", count_and_sum(totals.fees, totals.fee_sum, currency)),
            Field::new("Closing balance", grouped(head.closing, currency)),
        ],
        end_note: Some("End of statement".into()),
        row_count: u64::try_from(totals.movements()).unwrap_or(0) + 2,
    }
}

/// The first and last rows of a statement: a balance at an instant.
pub fn statement_balance(head: &StatementHead, opening: bool) -> Vec<Cell> {
    let (at, label, balance) = if opening {
        (head.period.from, "Opening balance", head.opening)
    } else {
        (head.period.to, "Closing balance", head.closing)
    };
    let mut cells = vec![Cell::Empty; 11];
    cells[0] = Cell::Time(head.period.local(at).datetime());
    cells[1] = Cell::Text(label.into());
    cells[10] = Cell::Amount(balance);
    cells
}

pub fn statement_line(line: &StatementLine, zone: &TimeZone) -> Vec<Cell> {
    let movement = &line.movement;
    vec![
        time_cell(movement.key.at, zone),
        Cell::Text(movement.kind.as_str().into()),
        text_cell(movement.description.as_deref()),
        text_cell(movement.reference.as_deref()),
        text_cell(movement.msisdn.as_deref()),
        Cell::Text(movement.key.item.to_string()),
        text_cell(movement.operator_transaction_id.as_deref()),
        amount_cell(movement.debit),
        amount_cell(movement.credit),
        amount_cell(movement.fee),
        Cell::Amount(line.balance),
    ]
}

/// The transaction report, one row per payout, collection, funding, fee or correction.
pub fn transactions(
    scope: &TransactionScope,
    totals: &TransactionTotals,
    generated_at: jiff::Timestamp,
) -> Report {
    let currency = scope.merchant.currency;
    let amount = money(currency);
    let mut fields = header(&scope.merchant, scope.period.as_ref(), generated_at);
    let types: Vec<&str> = if scope.filter.types.is_empty() {
        TransactionType::DEFAULT
            .iter()
            .map(|t| t.as_str())
            .collect()
    } else {
        scope.filter.types.iter().map(|t| t.as_str()).collect()
    };
    fields.push(Field::new("Types", types.join(", ")));
    Report {
        title: "Transaction report".into(),
        reference: format!("TR-{}", generated_at.strftime("%Y%m%d%H%M%S")),
        header: fields,
        columns: vec![
            Column::new("Time", ColumnKind::Time, 19),
            Column::new("Type", ColumnKind::Text, 10),
            Column::new("State", ColumnKind::Text, 10).below(1),
            Column::new("Reference", ColumnKind::Text, 14),
            Column::new("MSISDN", ColumnKind::Text, 12),
            Column::new("Route", ColumnKind::Text, 12).below(4),
            Column::new("Payrail id", ColumnKind::Text, 36),
            Column::new("Operator transaction id", ColumnKind::Text, 14).below(6),
            Column::new("Debit", amount, 14),
            Column::new("Credit", amount, 14),
            Column::new("Fee", amount, 10),
            Column::new("Failure reason", ColumnKind::Text, 20),
        ],
        totals: vec![
            Field::new("Transactions", totals.count.to_string()),
            Field::new("Amounts", grouped(totals.amount, currency)),
            Field::new("Fees", grouped(totals.fee, currency)),
        ],
        end_note: Some("End of report".into()),
        row_count: u64::try_from(totals.count).unwrap_or(0),
    }
}

pub fn transaction(row: &Transaction, zone: &TimeZone) -> Vec<Cell> {
    let amount = row.amount.minor();
    let (debit, credit) = if row.credit { (0, amount) } else { (amount, 0) };
    vec![
        time_cell(row.created_at, zone),
        Cell::Text(row.kind.as_str().into()),
        Cell::Text(row.state.clone()),
        text_cell(row.reference.as_deref()),
        text_cell(row.msisdn.as_deref()),
        text_cell(row.route.as_deref()),
        Cell::Text(row.id.to_string()),
        text_cell(row.operator_transaction_id.as_deref()),
        amount_cell(debit),
        amount_cell(credit),
        amount_cell(row.fee.minor()),
        text_cell(row.failure_code.as_deref()),
    ]
}

/// The batch reconciliation: one row per line, totals per state.
pub fn batch_statement(head: &BatchStatementHead) -> Report {
    let currency = head.merchant.currency;
    let amount = money(currency);
    let number = format!("RC-{}", head.batch.id);
    let mut fields = header(&head.merchant, None, head.generated_at);
    fields.retain(|field| field.label != "Period");
    fields.insert(0, Field::new("Batch", head.batch.id.to_string()));
    fields.insert(1, Field::new("Batch state", head.batch.state.as_str()));
    let mut totals: Vec<Field> = head
        .counts
        .iter()
        .map(|count| {
            Field::new(
                count.state.as_str(),
                format!(
                    "{} lines · {} · fees {}",
                    count.lines,
                    grouped(count.amount, currency),
                    grouped(count.fee, currency)
                ),
            )
        })
        .collect();
    totals.push(Field::new(
        "All lines",
        format!(
            "{} lines · {} · fees {}",
            head.batch.line_count,
            grouped(head.batch.total_amount.minor(), currency),
            grouped(head.batch.total_fee.minor(), currency)
        ),
    ));
    Report {
        title: "Batch reconciliation statement".into(),
        reference: number,
        header: fields,
        columns: vec![
            Column::new("Line", ColumnKind::Count, 7),
            Column::new("Reference", ColumnKind::Text, 14),
            Column::new("MSISDN", ColumnKind::Text, 12),
            Column::new("Name", ColumnKind::Text, 20).below(1),
            Column::new("Amount", amount, 14),
            Column::new("Fee", amount, 10).below(4),
            Column::new("State", ColumnKind::Text, 12),
            Column::new("Failure reason", ColumnKind::Text, 20).below(6),
            Column::new("Payout id", ColumnKind::Text, 36),
            Column::new("Operator reference", ColumnKind::Text, 36).below(8),
            Column::new("Operator transaction id", ColumnKind::Text, 14),
            Column::new("Sent at", ColumnKind::Time, 19),
            Column::new("Final at", ColumnKind::Time, 19).below(11),
        ],
        totals,
        end_note: Some("End of statement".into()),
        row_count: u64::try_from(head.batch.line_count).unwrap_or(0),
    }
}

pub fn reconciled(line: &ReconciledLine, zone: &TimeZone) -> Vec<Cell> {
    let time = |at: Option<jiff::Timestamp>| at.map_or(Cell::Empty, |at| time_cell(at, zone));
    vec![
        Cell::Count(i64::from(line.line_no)),
        text_cell(line.reference.as_deref()),
        Cell::Text(line.msisdn.clone()),
        text_cell(line.name.as_deref()),
        Cell::Amount(line.amount),
        Cell::Amount(line.fee),
        Cell::Text(line.state.as_str().into()),
        text_cell(line.failure_code.as_deref()),
        Cell::Text(line.payout_id.to_string()),
        Cell::Text(line.operator_reference.to_string()),
        text_cell(line.operator_transaction_id.as_deref()),
        time(line.sent_at),
        time(line.final_at),
    ]
}

/// Analytics: one row per period.
pub fn analytics(report: &Analytics, generated_at: jiff::Timestamp) -> Report {
    let currency = report.merchant.currency;
    let amount = money(currency);
    let mut fields = header(&report.merchant, Some(&report.period), generated_at);
    fields.push(Field::new("Granularity", report.granularity.as_str()));
    let sum = |f: fn(&AnalyticsPeriod) -> i64| report.periods.iter().map(f).sum::<i64>();
    Report {
        title: "Sales analytics".into(),
        reference: format!("AN-{}", generated_at.strftime("%Y%m%d%H%M%S")),
        header: fields,
        columns: vec![
            Column::new("Period", ColumnKind::Text, 16),
            Column::new("Collections", ColumnKind::Count, 9),
            Column::new("Collected", amount, 14),
            Column::new("Collection fees", amount, 12),
            Column::new("Payouts", ColumnKind::Count, 9),
            Column::new("Paid out", amount, 14),
            Column::new("Payout fees", amount, 12),
            Column::new("Success by route", ColumnKind::Text, 30),
            Column::new("Top failure reasons", ColumnKind::Text, 30).below(7),
            Column::new("Median ms", ColumnKind::Count, 9),
            Column::new("p95 ms", ColumnKind::Count, 9),
        ],
        totals: vec![
            Field::new(
                "Collections",
                count_and_sum(
                    sum(|p| p.collections.count),
                    sum(|p| p.collections.amount),
                    currency,
                ),
            ),
            Field::new(
                "Payouts",
                count_and_sum(
                    sum(|p| p.payouts.count),
                    sum(|p| p.payouts.amount),
                    currency,
                ),
            ),
            Field::new(
                "Fees",
                grouped(sum(|p| p.collections.fee + p.payouts.fee), currency),
            ),
        ],
        end_note: Some("End of report".into()),
        row_count: u64::try_from(report.periods.len()).unwrap_or(0),
    }
}

pub fn analytics_period(period: &AnalyticsPeriod) -> Vec<Cell> {
    let routes: Vec<String> = period
        .routes
        .iter()
        .map(|route| {
            let permille = route.success_permille();
            format!(
                "{} {} {}.{} %",
                route.kind,
                route.route,
                permille / 10,
                permille % 10
            )
        })
        .collect();
    let reasons: Vec<String> = period
        .failure_reasons
        .iter()
        .map(|(kind, code, count)| format!("{kind} {code} {count}"))
        .collect();
    let count = |value: Option<i64>| value.map_or(Cell::Empty, Cell::Count);
    vec![
        Cell::Text(period.label.clone()),
        Cell::Count(period.collections.count),
        Cell::Amount(period.collections.amount),
        Cell::Amount(period.collections.fee),
        Cell::Count(period.payouts.count),
        Cell::Amount(period.payouts.amount),
        Cell::Amount(period.payouts.fee),
        Cell::Text(routes.join("; ")),
        Cell::Text(reasons.join("; ")),
        count(period.payout_median_ms),
        count(period.payout_p95_ms),
    ]
}
